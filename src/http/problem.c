/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * problem.c - helpers handlers use to answer: JSON bodies, RFC 9457
 * problem+json errors with stable types, strict unpacking of request bodies,
 * query arguments.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "store/store.h"

static void set_body(struct http_resp *r, int status, const char *ctype, char *body)
{
    free(r->body);
    r->status = status;
    r->content_type = ctype;
    r->body = body;
    r->body_len = body ? strlen(body) : 0;
}

void http_json(struct http_resp *r, int status, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(v);
    if (!s) {
        set_body(r, 500, "application/problem+json",
                 strdup("{\"type\":\"" HTTP_PROBLEM_BASE "internal\",\"title\":\"Internal "
                        "error\",\"status\":500}"));
        return;
    }
    set_body(r, status, "application/json", s);
}

void http_text(struct http_resp *r, int status, const char *content_type, char *body)
{
    set_body(r, status, content_type, body);
}

void http_problem(struct http_resp *r, const struct http_req *req, int status, const char *slug,
                  const char *title, const char *detail, ...)
{
    char type[96], d[512] = "";
    snprintf(type, sizeof(type), HTTP_PROBLEM_BASE "%s", slug);
    if (detail) {
        va_list ap;
        va_start(ap, detail);
        vsnprintf(d, sizeof(d), detail, ap);
        va_end(ap);
    }
    /* Details may echo input: keep them valid UTF-8 so the answer stays valid JSON. */
    if (!am_utf8_valid(d, strlen(d)))
        am_strlcpy(d, "(detail not shown: invalid UTF-8)", sizeof(d));
    json_t *p = json_pack("{ss ss si}", "type", type, "title", title, "status", status);
    if (p && *d)
        json_object_set_new(p, "detail", json_string(d));
    if (p && req) {
        json_object_set_new(p, "instance", json_string(req->path));
        json_object_set_new(p, "request_id", json_string(req->request_id));
    }
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    set_body(r, status, "application/problem+json", s);
    if (status == 401)
        am_strlcpy(r->headers, "www-authenticate: Bearer realm=\"amane\"\r\n", sizeof(r->headers));
}

void http_problem_err(struct http_resp *r, const struct http_req *req, int err, const char *detail)
{
    const char *d = detail ? "%s" : NULL;
    switch (err) {
    case AM_EINVAL:
        http_problem(r, req, 422, "validation", "Invalid request", d, detail);
        break;
    case AM_ENOTFOUND:
        http_problem(r, req, 404, "not-found", "Not found", d, detail);
        break;
    case AM_ECONFLICT:
        http_problem(r, req, 409, "conflict", "Conflict with the current state", d, detail);
        break;
    case AM_ETOOBIG:
        http_problem(r, req, 413, "payload-too-large", "Payload too large", d, detail);
        break;
    case AM_EAUTH:
        http_problem(r, req, 401, "unauthorized", "Authentication required", d, detail);
        break;
    case AM_EFORBIDDEN:
        http_problem(r, req, 403, "forbidden", "Forbidden", d, detail);
        break;
    case AM_ELOCKED:
        http_problem(r, req, 423, "account-locked", "Account locked", d, detail);
        break;
    case AM_EBUSY:
    case AM_ECLOSED:
        http_problem(r, req, 503, "unavailable", "Service unavailable, retry", d, detail);
        break;
    default:
        http_problem(r, req, 500, "internal", "Internal error", NULL);
        break;
    }
}

int http_unpack(struct http_req *req, struct http_resp *resp, const char *fmt, ...)
{
    if (!req->json) {
        http_problem(resp, req, 400, "malformed-json", "Malformed JSON body",
                     "a JSON object body is required");
        return AM_EINVAL;
    }
    json_error_t err;
    va_list ap;
    va_start(ap, fmt);
    int rc = json_vunpack_ex(req->json, &err, JSON_STRICT, fmt, ap);
    va_end(ap);
    if (rc) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s%s%s", err.text,
                     err.source[0] && strcmp(err.source, "<validation>") ? " at " : "",
                     err.source[0] && strcmp(err.source, "<validation>") ? err.source : "");
        return AM_EINVAL;
    }
    return 0;
}

const char *http_arg(const struct http_req *req, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < req->nargs; i++) {
        if (strncmp(req->args[i], name, n) == 0 && req->args[i][n] == '=')
            return req->args[i] + n + 1;
    }
    return NULL;
}

struct http_later *http_later(struct http_resp *resp)
{
    struct http_job *job = http_job_of(resp);
    resp->pending = true;
    job->async_refs = 2; /* the worker and the completion */
    return (struct http_later *)job;
}

struct http_req *http_later_req(struct http_later *l)
{
    return &((struct http_job *)l)->req;
}

struct http_resp *http_later_resp(struct http_later *l)
{
    return &((struct http_job *)l)->resp;
}

void http_later_done(struct http_later *l)
{
    http_job_finished((struct http_job *)l);
}

/* What a command in flight carries to its completion on the writer thread. */
struct pending {
    struct store_cmd *cmd;
    void (*cleanup)(struct store_cmd *cmd);
    struct http_job *job;
};

/* Turns a finished command into the response. */
static void answer_command(struct http_req *req, struct http_resp *resp, struct store_cmd *cmd)
{
    if (cmd->idem_mismatch) {
        http_problem(resp, req, 422, "idempotency-key-reused", "Idempotency key reused",
                     "this Idempotency-Key was already used for a different request");
    } else if (cmd->rc) {
        http_problem_err(resp, req, cmd->rc, cmd->answer);
    } else {
        char *answer = cmd->answer;
        cmd->answer = NULL;
        http_text(resp, cmd->status ? cmd->status : 200, "application/json",
                  answer ? answer : strdup("{}"));
        if (cmd->replayed)
            am_strlcpy(resp->headers, "idempotent-replayed: true\r\n", sizeof(resp->headers));
    }
    free(cmd->answer);
    cmd->answer = NULL;
}

/* Runs on the store's writer thread after the commit: answer, clean up, wake the loop. */
static void command_done(struct store_cmd *cmd)
{
    struct pending *p = cmd->done_arg;
    struct http_job *job = p->job;
    answer_command(&job->req, &job->resp, cmd);
    if (p->cleanup)
        p->cleanup(cmd);
    free(p);
    http_job_finished(job);
}

void http_run_command(struct http_req *req, struct http_resp *resp, struct store *st,
                      struct store_cmd *cmd, void (*cleanup)(struct store_cmd *cmd))
{
    cmd->actor = req->who.username;
    int rc = 0;
    if (req->idem_bad) {
        http_problem(resp, req, 400, "bad-idempotency-key", "Bad Idempotency-Key",
                     "the key must be 1 to %d printable characters", STORE_IDEM_KEY_MAX);
        goto refused;
    }
    if (req->idem_key[0]) {
        size_t n = strlen(req->idem_key);
        bool ok = n <= STORE_IDEM_KEY_MAX && am_utf8_valid(req->idem_key, n);
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)req->idem_key[i] >= 0x20;
        if (!ok) {
            http_problem(resp, req, 400, "bad-idempotency-key", "Bad Idempotency-Key",
                         "the key must be 1 to %d printable characters", STORE_IDEM_KEY_MAX);
            goto refused;
        }
        cmd->idem_key = req->idem_key;
        cmd->idem_scope = req->who.username;
        /* The fingerprint binds the key to this exact request. */
        struct am_buf b;
        am_buf_init(&b, 0);
        if (am_buf_printf(&b, "%d %s\n", (int)req->method, req->path) ||
            am_buf_append(&b, req->body ? req->body : "", req->body_len)) {
            am_buf_release(&b);
            http_problem_err(resp, req, AM_ENOMEM, NULL);
            goto refused;
        }
        am_sha256(b.data, b.len, cmd->idem_fp);
        am_buf_release(&b);
    }
    /* The worker goes back to the pool; the writer answers after the commit. */
    struct pending *p = malloc(sizeof(*p));
    if (!p) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        goto refused;
    }
    p->cmd = cmd;
    p->cleanup = cleanup;
    p->job = http_job_of(resp);
    cmd->done = command_done;
    cmd->done_arg = p;
    resp->pending = true;
    p->job->async_refs = 2; /* the worker and the completion */
    rc = store_submit(st, cmd);
    if (rc) {
        resp->pending = false;
        free(p);
        http_problem_err(resp, req, rc, NULL);
        goto refused;
    }
    return;
refused:
    free(cmd->answer);
    cmd->answer = NULL;
    if (cleanup)
        cleanup(cmd);
}
