/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * logbook.c - the command room's logbook (main courante): append-only
 * entries, each one an event in the hash-chained log, readable by the room.
 */
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

#define LOGBOOK_TEXT_MAX 4000
#define LOGBOOK_PAGE_MAX 500

const char *const cad_logbook_categories[] = {"info",     "call",  "operation",
                                              "incident", "shift", NULL};

static const unsigned ROOM_ROLES =
    AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) | AM_ROLE_BIT(AM_ROLE_DISPATCHER);

static int check_entry(const char *category, const char *text, char *why, size_t whysz)
{
    bool ok = false;
    for (const char *const *c = cad_logbook_categories; *c; c++)
        ok = ok || strcmp(*c, category) == 0;
    if (!ok) {
        snprintf(why, whysz, "category must be one of info, call, operation, incident, shift");
        return AM_EINVAL;
    }
    size_t n = strlen(text);
    bool blank = true;
    for (size_t i = 0; i < n; i++)
        blank = blank && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t');
    if (n == 0 || blank || n > LOGBOOK_TEXT_MAX) {
        snprintf(why, whysz, "text must be 1 to %d bytes and not blank", LOGBOOK_TEXT_MAX);
        return AM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 && ch != '\n' && ch != '\t') {
            snprintf(why, whysz, "text may not contain control characters");
            return AM_EINVAL;
        }
    }
    return 0;
}

struct entry {
    const char *category, *text;
    int64_t id;
};

static json_t *entry_json(int64_t id, int64_t seq, int64_t ts_us, const char *author,
                          const char *category, const char *text)
{
    char ts[AM_TIME_BUFSZ];
    return json_pack("{sI sI ss ss ss ss}", "id", (json_int_t)id, "seq", (json_int_t)seq, "ts",
                     am_time_fmt(ts_us, ts, sizeof(ts)), "author", author, "category", category,
                     "text", text);
}

static int apply_add(struct store_conn *c, struct store_cmd *cmd)
{
    struct entry *e = cmd->arg;
    json_t *data = json_pack("{ss ss}", "category", e->category, "text", e->text);
    int64_t seq;
    int rc = data ? store_append(c, cmd, "logbook.entry", data, &seq) : AM_ENOMEM;
    json_decref(data);
    if (rc)
        return rc;
    int64_t now = cmd->last_ts; /* the event's time: the table is derived from the log */
    rc = store_exec(
        c, "INSERT INTO logbook(seq, ts_us, author, category, text) VALUES (?, ?, ?, ?, ?)",
        "iittt", seq, now, cmd->actor, e->category, e->text);
    if (rc)
        return rc;
    e->id = store_last_id(c);
    json_t *ans = entry_json(e->id, seq, now, cmd->actor, e->category, e->text);
    cmd->answer = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
    json_decref(ans);
    cmd->status = 201;
    return cmd->answer ? 0 : AM_ENOMEM;
}

int cad_logbook_add(struct store *st, const char *actor, const char *category, const char *text,
                    int64_t *id_out, char *why, size_t whysz)
{
    int rc = check_entry(category, text, why, whysz);
    if (rc)
        return rc;
    struct entry e = {category, text, 0};
    struct store_cmd cmd = {.apply = apply_add, .arg = &e, .actor = actor};
    rc = store_write(st, &cmd);
    free(cmd.answer);
    if (!rc && id_out)
        *id_out = e.id;
    return rc;
}

struct entry_call {
    struct store_cmd cmd; /* first: the completion gets the command back */
    struct entry e;
};

static void entry_call_free(struct store_cmd *cmd)
{
    free(cmd);
}

static void post_entry(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct store *st = arg;
    const char *category = "info", *text = NULL;
    if (http_unpack(req, resp, "{s:s, s?s}", "text", &text, "category", &category))
        return;
    char why[160];
    if (check_entry(category, text, why, sizeof(why))) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    struct entry_call *call = calloc(1, sizeof(*call));
    if (!call) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    /* The strings point into req->json, which lives until the answer is written. */
    call->e = (struct entry){category, text, 0};
    call->cmd.apply = apply_add;
    call->cmd.arg = &call->e;
    http_run_command(req, resp, st, &call->cmd, entry_call_free);
}

struct page {
    int64_t after, limit;
    json_t *items;
};

static int page_row(struct store_row *r, void *arg)
{
    struct page *p = arg;
    json_t *e = entry_json(store_row_i64(r, 0), store_row_i64(r, 1), store_row_i64(r, 2),
                           store_row_text(r, 3), store_row_text(r, 4), store_row_text(r, 5));
    return e && !json_array_append_new(p->items, e) ? 0 : AM_ENOMEM;
}

static int page_read(struct store_conn *c, void *arg)
{
    struct page *p = arg;
    if (p->after >= 0)
        return store_query(c,
                           "SELECT id, seq, ts_us, author, category, text FROM logbook "
                           "WHERE id > ? ORDER BY id LIMIT ?",
                           page_row, p, "ii", p->after, p->limit);
    /* No cursor: the most recent entries, newest first. */
    return store_query(c,
                       "SELECT id, seq, ts_us, author, category, text FROM logbook "
                       "ORDER BY id DESC LIMIT ?",
                       page_row, p, "i", p->limit);
}

static void get_entries(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct store *st = arg;
    struct page p = {-1, 100, NULL};
    const char *after = http_arg(req, "after"), *limit = http_arg(req, "limit");
    if ((after && am_parse_i64(after, 0, INT64_MAX, &p.after)) ||
        (limit && am_parse_i64(limit, 1, LOGBOOK_PAGE_MAX, &p.limit))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "after must be an entry id >= 0 and limit an integer in [1, %d]",
                     LOGBOOK_PAGE_MAX);
        return;
    }
    p.items = json_array();
    int rc = p.items ? store_read(st, page_read, &p) : AM_ENOMEM;
    if (rc) {
        json_decref(p.items);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", p.items));
}

int cad_logbook_routes(struct http_server *srv, struct store *st)
{
    int rc =
        http_route(srv, HTTP_POST, "/api/v1/logbook", ROOM_ROLES, HTTP_JSON_BODY, post_entry, st);
    if (!rc)
        rc = http_route(srv, HTTP_GET, "/api/v1/logbook", ROOM_ROLES, 0, get_entries, st);
    return rc;
}
