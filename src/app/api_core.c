/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_core.c - the platform's own routes: health, metrics, time zone, login, logout,
 * /me, user administration, the event log and its verification.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/app.h"

static const unsigned ADMIN = AM_ROLE_BIT(AM_ROLE_ADMIN);
static const unsigned AUDITORS = AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR);

static int ping_row(struct store_row *r, void *arg)
{
    (void)r;
    (void)arg;
    return 0;
}

static int ping(struct store_conn *c, void *arg)
{
    return store_query(c, "SELECT 1", ping_row, arg, NULL);
}

static void healthz(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    int rc = store_read(a->store, ping, NULL);
    char ts[AM_TIME_BUFSZ];
    http_json(resp, rc ? 503 : 200,
              json_pack("{ss ss ss sI}", "status", rc ? "unavailable" : "ok", "version",
                        AMANE_VERSION, "started", am_time_fmt(a->started_us, ts, sizeof(ts)),
                        "head_seq", (json_int_t)store_head_seq(a->store)));
    (void)req;
}

static void metrics(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct store_stats s;
    store_stats_get(a->store, &s);
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = am_metrics_render(&b);
    if (!rc)
        rc = am_buf_printf(
            &b,
            "# HELP amane_store_commits_total Group commits made durable\n"
            "# TYPE amane_store_commits_total counter\namane_store_commits_total %llu\n"
            "# HELP amane_store_commands_total Commands committed or failed in a group\n"
            "# TYPE amane_store_commands_total counter\namane_store_commands_total %llu\n"
            "# HELP amane_store_events_total Events appended to the log\n"
            "# TYPE amane_store_events_total counter\namane_store_events_total %llu\n"
            "# HELP amane_store_commands_failed_total Commands refused or failed\n"
            "# TYPE amane_store_commands_failed_total counter\n"
            "amane_store_commands_failed_total %llu\n"
            "# HELP amane_store_idempotent_replays_total Commands answered from an earlier key\n"
            "# TYPE amane_store_idempotent_replays_total counter\n"
            "amane_store_idempotent_replays_total %llu\n"
            "# HELP amane_store_queue_depth Commands waiting for the writer\n"
            "# TYPE amane_store_queue_depth gauge\namane_store_queue_depth %llu\n"
            "# HELP amane_store_head_seq Sequence number of the last committed event\n"
            "# TYPE amane_store_head_seq gauge\namane_store_head_seq %lld\n",
            (unsigned long long)s.commits, (unsigned long long)s.commands,
            (unsigned long long)s.events, (unsigned long long)s.failed,
            (unsigned long long)s.replayed, (unsigned long long)s.queue_depth,
            (long long)store_head_seq(a->store));
    if (rc) {
        am_buf_release(&b);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", am_buf_steal(&b));
}

/*
 * Africa/Casablanca's UTC offsets from the server's tz database. Browsers
 * carry their own copy, and some are wrong for Morocco (UTC+1 all year but
 * UTC+0 during Ramadan), so the web apps shift times with these spans.
 */
static void time_zone(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    json_t *spans = json_array();
    char ts[AM_TIME_BUFSZ];
    for (size_t i = 0; spans && i < a->ntz; i++)
        json_array_append_new(spans, json_pack("{ss si}", "from",
                                               am_time_fmt(a->tz[i].from_us, ts, sizeof(ts)),
                                               "offset_s", (int)a->tz[i].offset_s));
    if (!a->ntz) {
        json_decref(spans);
        http_problem(resp, req, 404, "not-found", "Not found", "no tz data on this server");
        return;
    }
    http_json(resp, 200, json_pack("{ss so}", "zone", "Africa/Casablanca", "spans", spans));
}

static json_t *principal_json(const struct am_principal *p)
{
    char ts[AM_TIME_BUFSZ];
    return json_pack("{sI ss ss ss}", "id", (json_int_t)p->user_id, "username", p->username, "role",
                     am_role_name(p->role), "token_expires",
                     am_time_fmt(p->token_expires_us, ts, sizeof(ts)));
}

static void login(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const char *username, *password;
    if (http_unpack(req, resp, "{s:s, s:s}", "username", &username, "password", &password))
        return;
    char token[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    int rc = auth_login(a->auth, username, password, token, &p);
    if (rc == AM_EAUTH) {
        http_problem(resp, req, 401, "invalid-credentials", "Invalid credentials",
                     "unknown user, wrong password or disabled account");
        return;
    }
    if (rc == AM_ELOCKED) {
        http_problem(resp, req, 423, "account-locked", "Account locked",
                     "too many failed logins; try again later or ask an administrator");
        return;
    }
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    char ts[AM_TIME_BUFSZ];
    http_json(resp, 200,
              json_pack("{ss ss so}", "token", token, "expires",
                        am_time_fmt(p.token_expires_us, ts, sizeof(ts)), "user",
                        principal_json(&p)));
    sodium_memzero(token, sizeof(token));
}

static void logout(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    int rc = auth_logout(a->auth, req->bearer);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_text(resp, 204, "application/json", NULL);
}

static void me(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)arg;
    http_json(resp, 200, principal_json(&req->who));
}

static void users_list(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    json_t *users;
    int rc = auth_user_list(a->auth, &users);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", users));
}

static void users_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const char *username, *display, *role_s, *password;
    if (http_unpack(req, resp, "{s:s, s:s, s:s, s:s}", "username", &username, "display_name",
                    &display, "role", &role_s, "password", &password))
        return;
    char why[160];
    enum am_role role;
    if (auth_check_username(username, why, sizeof(why)) ||
        auth_check_display_name(display, why, sizeof(why)) ||
        auth_check_password(password, why, sizeof(why))) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    if (am_role_parse(role_s, &role)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "role must be one of admin, supervisor, dispatcher, patrol, analyst, "
                     "examiner, trainer, trainee");
        return;
    }
    int64_t id;
    int rc = auth_user_add(a->auth, req->who.username, username, display, role, password, &id);
    if (rc == AM_ECONFLICT) {
        http_problem(resp, req, 409, "conflict", "Conflict with the current state",
                     "the username '%s' is taken", username);
        return;
    }
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 201,
              json_pack("{sI ss ss ss}", "id", (json_int_t)id, "username", username, "display_name",
                        display, "role", role_s));
}

static void users_disable(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (strcmp(req->param[0], req->who.username) == 0) {
        http_problem(resp, req, 409, "conflict", "Conflict with the current state",
                     "an administrator may not disable their own account");
        return;
    }
    int rc = auth_user_disable(a->auth, req->who.username, req->param[0]);
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? "no such user" : NULL);
        return;
    }
    http_json(resp, 200, json_pack("{ss sb}", "username", req->param[0], "disabled", 1));
}

static void users_passwd(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const char *password;
    if (http_unpack(req, resp, "{s:s}", "password", &password))
        return;
    char why[160];
    if (auth_check_password(password, why, sizeof(why))) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    int rc = auth_user_passwd(a->auth, req->who.username, req->param[0], password);
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? "no such user" : NULL);
        return;
    }
    http_text(resp, 204, "application/json", NULL);
}

static int event_into(struct am_event *ev, void *arg)
{
    json_t *j = am_event_json(ev);
    return j && !json_array_append_new(arg, j) ? 0 : AM_ENOMEM;
}

static void events_list(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    int64_t since = 0, limit = 100;
    const char *s = http_arg(req, "since"), *l = http_arg(req, "limit");
    if ((s && am_parse_i64(s, 0, INT64_MAX, &since)) || (l && am_parse_i64(l, 1, 1000, &limit))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "since must be a sequence number >= 0 and limit an integer in [1, 1000]");
        return;
    }
    json_t *items = json_array();
    int rc = items ? store_events_since(a->store, since, limit, event_into, items) : AM_ENOMEM;
    if (rc) {
        json_decref(items);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200,
              json_pack("{so sI}", "items", items, "head", (json_int_t)store_head_seq(a->store)));
}

static void audit_verify(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct store_verify v;
    int rc = store_verify_chain(a->store, &v);
    char head[2 * AM_SHA256_LEN + 1];
    am_hex(v.head, AM_SHA256_LEN, head);
    if (rc && rc != AM_ECORRUPT) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    json_t *j = json_pack("{sb sI ss}", "ok", rc == 0, "verified", (json_int_t)v.verified,
                          "head_hash", head);
    if (rc && j) {
        json_object_set_new(j, "first_bad_seq", json_integer(v.bad_seq));
        json_object_set_new(j, "reason", json_string(v.why));
    }
    http_json(resp, 200, j);
}

static void stream_needs_upgrade(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)arg;
    http_problem(resp, req, 426, "upgrade-required", "Upgrade required",
                 "connect with a WebSocket client");
}

int app_routes_core(struct app *a)
{
    struct http_server *s = a->http;
    int rc = 0;
    rc = rc ? rc : http_route(s, HTTP_GET, "/healthz", 0, HTTP_PUBLIC, healthz, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/metrics", 0, HTTP_PUBLIC, metrics, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/api/v1/time/zone", 0, HTTP_PUBLIC, time_zone, a);
    rc = rc ? rc
            : http_route(s, HTTP_POST, "/api/v1/auth/login", 0, HTTP_PUBLIC | HTTP_JSON_BODY, login,
                         a);
    rc = rc ? rc : http_route(s, HTTP_POST, "/api/v1/auth/logout", AM_ROLES_ALL, 0, logout, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/api/v1/me", AM_ROLES_ALL, 0, me, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/api/v1/users", ADMIN, 0, users_list, a);
    rc = rc ? rc : http_route(s, HTTP_POST, "/api/v1/users", ADMIN, HTTP_JSON_BODY, users_add, a);
    rc = rc ? rc
            : http_route(s, HTTP_POST, "/api/v1/users/{username}/disable", ADMIN, 0, users_disable,
                         a);
    rc = rc ? rc
            : http_route(s, HTTP_POST, "/api/v1/users/{username}/password", ADMIN, HTTP_JSON_BODY,
                         users_passwd, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/api/v1/events", AUDITORS, 0, events_list, a);
    rc = rc ? rc : http_route(s, HTTP_GET, "/api/v1/audit/verify", ADMIN, 0, audit_verify, a);
    rc = rc ? rc
            : http_route(s, HTTP_GET, "/api/v1/stream", AM_ROLES_ALL, 0, stream_needs_upgrade, a);
    return rc;
}
