/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api.c - the CAD routes: incidents, units, incident types, and the
 * logbook. Writes go through the same operations as the CLI; the role of
 * each route is declared here, and nowhere else.
 */
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"
#include "cad/exchange.h"

#define R(x) AM_ROLE_BIT(AM_ROLE_##x)
static const unsigned ROOM = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER);
static const unsigned FIELD = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER) | R(PATROL);
static const unsigned COMMAND = R(ADMIN) | R(SUPERVISOR);

struct op_route {
    struct cad *cad;
    enum cad_op op;
};

static struct op_route op_routes[CAD_OP_COUNT];

/* An operation in flight: the command and what its apply needs, freed after the answer. */
struct op_call {
    struct store_cmd cmd;
    struct cad_op_ctx x;
    json_t *owned_req; /* a request built here (EIDO import), not the body's */
};

static void op_call_free(struct store_cmd *cmd)
{
    struct op_call *call = (struct op_call *)cmd; /* cmd is the first member */
    json_decref(call->x.result);
    json_decref(call->owned_req);
    free(call);
}

static void run_op(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct op_route *o = arg;
    struct op_call *call = calloc(1, sizeof(*call));
    if (!call) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    cad_cmd_init(&call->cmd, &call->x, o->cad, o->op, req->nparams ? req->param[0] : NULL,
                 req->json);
    call->x.role = req->who.role;
    http_run_command(req, resp, o->cad->st, &call->cmd, op_call_free);
}

/* The agency id this centre signs its exchanges with (EIDO agency, CAP sender). */
static const char *agency_of(struct cad *cad)
{
    return cad->o.agency[0] ? cad->o.agency : "dgsn.ma";
}

static bool type_known(struct cad *cad, const char *code)
{
    json_t *types = NULL;
    bool found = false;
    if (cad_type_list(cad, &types))
        return false;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) found =
        found || !strcmp(json_string_value(json_object_get(t, "code")), code);
    json_decref(types);
    return found;
}

/*
 * Opens an incident handed over by another centre as an EIDO document. A
 * type this centre does not know becomes OTHER; where it came from and its
 * number there head the narrative.
 */
static void import_eido(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct cad *cad = arg;
    struct cad_incident_import *imp = calloc(1, sizeof(*imp));
    char why[256];
    if (!imp) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    int rc = cad_eido_import(req->body ? req->body : "", req->body_len, imp, why, sizeof(why));
    if (rc) {
        free(imp);
        if (rc == AM_EINVAL)
            http_problem(resp, req, 422, "invalid-eido", "Invalid EIDO document", "%s", why);
        else
            http_problem_err(resp, req, rc, NULL);
        return;
    }
    bool known = type_known(cad, imp->type);
    struct am_buf narrative;
    am_buf_init(&narrative, 0);
    rc = am_buf_printf(&narrative, "Transmis par / محال من %s (%s)%s%s%s", imp->remote_agency,
                       imp->remote_number, known ? "" : ", type ", known ? "" : imp->type,
                       imp->narrative[0] ? "\n" : "");
    /* Keep within the narrative's 4000 bytes, cutting only between UTF-8 characters. */
    size_t room = narrative.len < 4000 ? 4000 - narrative.len : 0, n = strlen(imp->narrative);
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)imp->narrative[n] & 0xc0) == 0x80)
            n--;
    }
    if (!rc)
        rc = am_buf_append(&narrative, imp->narrative, n);
    json_t *open =
        rc ? NULL
           : json_pack("{ss ss}", "type", known ? imp->type : "OTHER", "narrative", narrative.data);
    am_buf_release(&narrative);
    if (open && imp->priority)
        json_object_set_new(open, "priority", json_integer(imp->priority));
    if (open && (imp->caller_name[0] || imp->caller_phone[0])) {
        json_t *caller = json_object();
        if (imp->caller_name[0])
            json_object_set_new(caller, "name", json_string(imp->caller_name));
        if (imp->caller_phone[0])
            json_object_set_new(caller, "phone", json_string(imp->caller_phone));
        json_object_set_new(open, "caller", caller);
    }
    if (open && (imp->has_location || imp->address[0])) {
        json_t *loc = json_object();
        if (imp->has_location) {
            json_object_set_new(loc, "lat", json_real(imp->lat));
            json_object_set_new(loc, "lon", json_real(imp->lon));
        }
        if (imp->address[0])
            json_object_set_new(loc, "address", json_string(imp->address));
        json_object_set_new(open, "location", loc);
    }
    /* The call time is kept when it is recent enough for an open incident. */
    int64_t now = am_now_us();
    if (open && imp->call_us && imp->call_us > now - 86000000000LL && imp->call_us <= now) {
        char ts[AM_TIME_BUFSZ];
        json_object_set_new(open, "call_time",
                            json_string(am_time_fmt(imp->call_us, ts, sizeof(ts))));
    }
    free(imp);
    struct op_call *call = open ? calloc(1, sizeof(*call)) : NULL;
    if (!call) {
        json_decref(open);
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    call->owned_req = open;
    cad_cmd_init(&call->cmd, &call->x, cad, CAD_INCIDENT_OPEN, NULL, open);
    http_run_command(req, resp, cad->st, &call->cmd, op_call_free);
}

static void export_eido(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct cad *cad = arg;
    json_t *inc = NULL, *doc = NULL;
    int rc = cad_incident_get(cad, req->param[0], &inc);
    if (!rc)
        rc = cad_eido_export(inc, agency_of(cad), &doc);
    json_decref(inc);
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? "no such incident" : NULL);
        return;
    }
    http_json(resp, 200, doc);
}

static void export_cap(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct cad *cad = arg;
    json_t *inc = NULL;
    struct am_buf xml;
    am_buf_init(&xml, 4 * 1024 * 1024);
    char sender[160];
    snprintf(sender, sizeof(sender), "cic@%s", agency_of(cad));
    int rc = cad_incident_get(cad, req->param[0], &inc);
    if (!rc)
        rc = cad_cap_export(inc, sender, NULL, NULL, &xml);
    json_decref(inc);
    if (rc) {
        am_buf_release(&xml);
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? "no such incident" : NULL);
        return;
    }
    http_text(resp, 200, "application/xml; charset=utf-8", am_buf_steal(&xml));
}

static void answer(struct http_req *req, struct http_resp *resp, int rc, json_t *v,
                   const char *what)
{
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? what : NULL);
        return;
    }
    http_json(resp, 200, v);
}

static void get_incident(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_incident_get(arg, req->param[0], &v);
    answer(req, resp, rc, v, "no such incident");
}

static void get_history(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_incident_history(arg, req->param[0], &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{ss so}", "incident", req->param[0], "events", v),
           "no such incident");
}

static void list_incidents(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *status = http_arg(req, "status"), *limit = http_arg(req, "limit");
    int64_t n = 200;
    if (!status)
        status = "open";
    if ((strcmp(status, "open") && strcmp(status, "closed") && strcmp(status, "all")) ||
        (limit && am_parse_i64(limit, 1, 1000, &n))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "status must be open, closed or all, and limit an integer in [1, 1000]");
        return;
    }
    json_t *v = NULL;
    int rc = cad_incident_list(arg, status, n, &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{so}", "items", v), NULL);
}

static void list_units(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_unit_list(arg, &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{so}", "items", v), NULL);
}

static void list_premise(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_premise_list(arg, &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{so}", "items", v), NULL);
}

static void list_types(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_type_list(arg, &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{so}", "items", v), NULL);
}

static void stats_response(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *group = http_arg(req, "group"), *from_s = http_arg(req, "from"),
               *to_s = http_arg(req, "to"), *format = http_arg(req, "format");
    int64_t now = am_now_us(), from = now - 7 * 86400 * 1000000LL, to = now + 1;
    if (!group)
        group = "sector";
    if (!format)
        format = "json";
    if ((strcmp(group, "sector") && strcmp(group, "priority") && strcmp(group, "day")) ||
        (strcmp(format, "json") && strcmp(format, "csv")) ||
        (from_s && am_time_parse(from_s, &from)) || (to_s && am_time_parse(to_s, &to)) ||
        to <= from) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "group must be sector, priority or day; format json or csv; from and to "
                     "RFC 3339 times with from < to");
        return;
    }
    json_t *stats = NULL;
    int rc = cad_stats_response(arg, group, from, to, &stats);
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ETOOBIG ? "narrow the time range" : NULL);
        return;
    }
    if (!strcmp(format, "json")) {
        http_json(resp, 200, stats);
        return;
    }
    struct am_buf b;
    am_buf_init(&b, 0);
    rc = cad_stats_csv(stats, &b);
    json_decref(stats);
    if (rc) {
        am_buf_release(&b);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_text(resp, 200, "text/csv; charset=utf-8", am_buf_steal(&b));
}

/* Maps a routing error to its problem: 422 for what the caller can change, 503 without a graph. */
static void routing_problem(struct http_req *req, struct http_resp *resp, int rc, const char *why)
{
    if (rc == AM_EINVAL)
        http_problem(resp, req, 422, "not-routable", "Cannot route", "%s", why);
    else if (rc == AM_EBUSY)
        http_problem(resp, req, 503, "no-road-graph", "Routing unavailable", "%s", why);
    else
        http_problem_err(resp, req, rc, why);
}

/* The "emergency" argument: absent, 0 or 1. */
static bool emergency_arg(struct http_req *req, bool *out)
{
    const char *e = http_arg(req, "emergency");
    *out = e && strcmp(e, "1") == 0;
    return !e || strcmp(e, "0") == 0 || strcmp(e, "1") == 0;
}

/* A filter argument: absent, or 1..64 bytes of A-Z a-z 0-9 _ -. */
static bool word_arg(struct http_req *req, const char *name, const char **out)
{
    const char *v = http_arg(req, name);
    *out = v;
    if (!v)
        return true;
    size_t n = strlen(v);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
            return false;
    return true;
}

static void recommendations(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *ks = http_arg(req, "k"), *capability, *kind;
    int64_t k = 5;
    bool emergency;
    if ((ks && am_parse_i64(ks, 1, 50, &k)) || !word_arg(req, "capability", &capability) ||
        !word_arg(req, "kind", &kind) || !emergency_arg(req, &emergency)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "k must be an integer in [1, 50]; capability and kind 1 to 64 of A-Z a-z "
                     "0-9 _ -; emergency 0 or 1");
        return;
    }
    json_t *v = NULL;
    char why[256] = "";
    int rc = cad_recommend(arg, req->param[0], (int)k, capability, kind, emergency, &v, why,
                           sizeof(why));
    if (rc) {
        routing_problem(req, resp, rc, why);
        return;
    }
    http_json(resp, 200, v);
}

static void unit_route(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *unit;
    bool emergency;
    if (!word_arg(req, "unit", &unit) || !unit || !emergency_arg(req, &emergency)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "unit must be a callsign; emergency 0 or 1");
        return;
    }
    json_t *v = NULL;
    char why[256] = "";
    int rc = cad_unit_route(arg, req->param[0], unit, emergency, &v, why, sizeof(why));
    if (rc) {
        routing_problem(req, resp, rc, why);
        return;
    }
    http_json(resp, 200, v);
}

static void list_messages(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *limit = http_arg(req, "limit");
    int64_t n = 50;
    if (limit && am_parse_i64(limit, 1, 500, &n)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "limit must be an integer in [1, 500]");
        return;
    }
    json_t *v = NULL;
    int rc = cad_unit_messages(arg, req->param[0], n, &v);
    answer(req, resp, rc, rc ? NULL : json_pack("{so}", "items", v), "no such unit");
}

static void mdt_state(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = cad_mdt_state(arg, req->who.username, &v);
    answer(req, resp, rc, v, NULL);
}

int cad_routes(struct http_server *srv, struct cad *cad)
{
    static const struct {
        enum http_method m;
        const char *path;
        unsigned roles;
        enum cad_op op;
    } ops[] = {
        {HTTP_POST, "/api/v1/incidents", ROOM, CAD_INCIDENT_OPEN},
        {HTTP_POST, "/api/v1/incidents/{number}/notes", FIELD, CAD_INCIDENT_NOTE},
        {HTTP_POST, "/api/v1/incidents/{number}/assign", ROOM, CAD_INCIDENT_ASSIGN},
        {HTTP_POST, "/api/v1/incidents/{number}/release", ROOM, CAD_INCIDENT_RELEASE},
        {HTTP_POST, "/api/v1/incidents/{number}/close", ROOM, CAD_INCIDENT_CLOSE},
        {HTTP_POST, "/api/v1/incidents/{number}/reopen", ROOM, CAD_INCIDENT_REOPEN},
        {HTTP_POST, "/api/v1/incidents/{number}/link", ROOM, CAD_INCIDENT_LINK},
        {HTTP_POST, "/api/v1/incidents/{number}/merge", ROOM, CAD_INCIDENT_MERGE},
        {HTTP_POST, "/api/v1/units", COMMAND, CAD_UNIT_ADD},
        {HTTP_POST, "/api/v1/units/{callsign}/status", FIELD, CAD_UNIT_STATUS},
        {HTTP_POST, "/api/v1/units/{callsign}/position", FIELD, CAD_UNIT_POSITION},
        {HTTP_POST, "/api/v1/incident-types", R(ADMIN), CAD_TYPE_ADD},
        {HTTP_POST, "/api/v1/premise-notes", ROOM, CAD_PREMISE_ADD},
        {HTTP_POST, "/api/v1/units/{callsign}/sign-on", FIELD, CAD_UNIT_SIGN_ON},
        {HTTP_POST, "/api/v1/units/{callsign}/sign-off", FIELD, CAD_UNIT_SIGN_OFF},
        {HTTP_POST, "/api/v1/units/{callsign}/messages", ROOM, CAD_UNIT_MESSAGE},
        {HTTP_POST, "/api/v1/messages/{id}/ack", FIELD, CAD_MESSAGE_ACK},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !rc; i++) {
        op_routes[ops[i].op] = (struct op_route){cad, ops[i].op};
        rc = http_route(srv, ops[i].m, ops[i].path, ops[i].roles, HTTP_JSON_BODY, run_op,
                        &op_routes[ops[i].op]);
    }
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/incidents", FIELD, 0, list_incidents, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}", FIELD, 0, get_incident, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}/history", FIELD, 0, get_history,
                         cad);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/units", FIELD, 0, list_units, cad);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/incident-types", FIELD, 0, list_types, cad);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/premise-notes", FIELD, 0, list_premise, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/stats/response-times", COMMAND, 0, stats_response,
                         cad);
    rc = rc ? rc : http_route(srv, HTTP_POST, "/api/v1/incidents/eido", ROOM, 0, import_eido, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}/eido", ROOM, 0, export_eido,
                         cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}/cap", ROOM, 0, export_cap, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}/recommendations", ROOM, 0,
                         recommendations, cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/incidents/{number}/route", FIELD, 0, unit_route,
                         cad);
    rc = rc ? rc
            : http_route(srv, HTTP_GET, "/api/v1/units/{callsign}/messages", FIELD, 0,
                         list_messages, cad);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/mdt", FIELD, 0, mdt_state, cad);
    rc = rc ? rc : cad_logbook_routes(srv, cad->st);
    return rc;
}
