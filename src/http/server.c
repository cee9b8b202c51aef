/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * server.c - the libwebsockets glue: the request life cycle (headers, body
 * with a limit, dispatch to a worker, response written back on the loop),
 * the access log, and the tasks other threads post to the loop.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

#define BODY_CHUNK 16384
/* Web apps load nothing from elsewhere; the stream is same-origin. */
#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; "              \
    "frame-ancestors 'none'"

/* ------------------------------------------------------------- metrics */

static struct am_counter req_2xx = {"amane_http_requests_total", "HTTP requests answered",
                                    "code=\"2xx\"", 0, NULL};
static struct am_counter req_3xx = {"amane_http_requests_total", "HTTP requests answered",
                                    "code=\"3xx\"", 0, NULL};
static struct am_counter req_4xx = {"amane_http_requests_total", "HTTP requests answered",
                                    "code=\"4xx\"", 0, NULL};
static struct am_counter req_5xx = {"amane_http_requests_total", "HTTP requests answered",
                                    "code=\"5xx\"", 0, NULL};
static struct am_hist req_latency = {"amane_http_request_duration_seconds",
                                     "Time from request to last byte written",
                                     {0},
                                     0,
                                     0,
                                     NULL};

void http_metrics_init(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    am_counter_register(&req_5xx);
    am_counter_register(&req_4xx);
    am_counter_register(&req_3xx);
    am_counter_register(&req_2xx);
    am_hist_register(&req_latency);
}

void http_count_status(int status)
{
    am_counter_add(status >= 500   ? &req_5xx
                   : status >= 400 ? &req_4xx
                   : status >= 300 ? &req_3xx
                                   : &req_2xx,
                   1);
}

void http_observe_latency(int64_t us)
{
    am_hist_observe(&req_latency, (uint64_t)(us < 0 ? 0 : us));
}

/* ------------------------------------------------------------- loop tasks */

int http_post_task(struct http_server *s, void (*fn)(struct http_server *, void *), void *arg)
{
    struct loop_task *t = malloc(sizeof(*t));
    if (!t)
        return AM_ENOMEM;
    *t = (struct loop_task){fn, arg, NULL};
    pthread_mutex_lock(&s->tmu);
    /* The loop drains the whole queue when woken: wake it only for the first task. */
    bool was_empty = !s->tasks_head;
    if (s->tasks_tail)
        s->tasks_tail->next = t;
    else
        s->tasks_head = t;
    s->tasks_tail = t;
    pthread_mutex_unlock(&s->tmu);
    if (was_empty)
        lws_cancel_service(s->ctx);
    return 0;
}

static void run_tasks(struct http_server *s)
{
    pthread_mutex_lock(&s->tmu);
    struct loop_task *t = s->tasks_head;
    s->tasks_head = s->tasks_tail = NULL;
    pthread_mutex_unlock(&s->tmu);
    while (t) {
        struct loop_task *next = t->next;
        t->fn(s, t->arg);
        free(t);
        t = next;
    }
}

/* ------------------------------------------------------------- jobs */

static void job_free(struct http_job *job)
{
    if (!job)
        return;
    for (int i = 0; i < job->req.nargs; i++)
        free(job->req.args[i]);
    json_decref(job->req.json);
    free(job->resp.body);
    am_buf_release(&job->body);
    free(job);
}

/* Keeps log lines parseable whatever the client sent as a path. */
static void log_safe(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; *in && i + 1 < n; in++)
        out[i++] = (*in == '"' || *in == '\\' || (unsigned char)*in < 0x20) ? '?' : *in;
    out[i] = '\0';
}

static void access_log(struct http_job *job)
{
    char path[256];
    log_safe(job->req.path, path, sizeof(path));
    int64_t us = am_mono_us() - job->start_us;
    http_count_status(job->resp.status);
    http_observe_latency(us);
    am_info("http", "request", "rid=%s method=%s path=\"%s\" status=%d bytes=%zu us=%lld user=%s",
            job->req.request_id, job->method_name, path, job->resp.status, job->resp.body_len,
            (long long)us, job->req.authenticated ? job->req.who.username : "-");
}

static void job_ready(struct http_server *s, void *arg)
{
    struct http_job *job = arg;
    if (job->cancelled) {
        job_free(job);
        return;
    }
    job->state = JOB_READY;
    lws_callback_on_writable(job->wsi);
}

/* Answers from the loop thread without a worker (routing errors, limits). */
static int respond_now(struct conn *c, struct http_job *job)
{
    c->job = job;
    job->state = JOB_READY;
    lws_callback_on_writable(job->wsi);
    return 0;
}

static bool content_type_is_json(struct lws *wsi)
{
    char ct[128];
    if (lws_hdr_copy(wsi, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
        return false;
    for (char *p = ct; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    size_t n = strlen("application/json");
    return strncmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Runs on a worker: authentication, role check, body parsing, handler. */
static void job_run(void *arg)
{
    struct http_job *job = arg;
    struct http_server *s = job->srv;
    const struct route *r = job->route;
    struct http_req *req = &job->req;
    struct http_resp *resp = &job->resp;
    if (!(r->flags & HTTP_PUBLIC)) {
        if (!req->bearer[0]) {
            http_problem(resp, req, 401, "unauthorized", "Authentication required",
                         "send a bearer token in the Authorization header");
            goto out;
        }
        int rc = s->o.authenticate(s->o.authn_arg, req->bearer, &req->who);
        if (rc == AM_EAUTH) {
            http_problem(resp, req, 401, "invalid-token", "Invalid or expired token",
                         "log in again");
            goto out;
        }
        if (rc) {
            http_problem_err(resp, req, rc, NULL);
            goto out;
        }
        req->authenticated = true;
        if (!(r->roles & AM_ROLE_BIT(req->who.role))) {
            http_problem(resp, req, 403, "forbidden", "Forbidden",
                         "the role '%s' may not call %s %s", am_role_name(req->who.role),
                         job->method_name, r->pattern);
            goto out;
        }
    }
    if (r->flags & HTTP_JSON_BODY) {
        if (!job->req.body_len) {
            http_problem(resp, req, 400, "malformed-json", "Malformed JSON body",
                         "a JSON object body is required");
            goto out;
        }
        char why[256];
        int rc = am_json_parse_object(req->body, req->body_len, s->o.body_limit, &req->json, why,
                                      sizeof(why));
        if (rc == AM_ETOOBIG) {
            http_problem(resp, req, 413, "payload-too-large", "Payload too large", "%s", why);
            goto out;
        }
        if (rc) {
            http_problem(resp, req, 400, "malformed-json", "Malformed JSON body", "%s", why);
            goto out;
        }
    }
    r->fn(req, resp, r->arg);
    /* A command in flight is answered by its completion. The job is shared with it until both
     * are done with it: whichever finishes last hands it to the loop. Nothing of the response
     * may be read here: the completion may be writing it. */
    if (resp->pending) {
        if (__atomic_sub_fetch(&job->async_refs, 1, __ATOMIC_ACQ_REL) == 0)
            http_job_to_loop(job);
        return;
    }
    if (!resp->status)
        http_problem(resp, req, 500, "internal", "Internal error", NULL);
out:
    if (http_post_task(s, job_ready, job))
        AM_BUG("cannot post to the loop");
}

void http_job_to_loop(struct http_job *job)
{
    if (!job->resp.status)
        http_problem(&job->resp, &job->req, 500, "internal", "Internal error", NULL);
    if (http_post_task(job->srv, job_ready, job))
        AM_BUG("cannot post to the loop");
}

void http_job_finished(struct http_job *job)
{
    if (__atomic_sub_fetch(&job->async_refs, 1, __ATOMIC_ACQ_REL) == 0)
        http_job_to_loop(job);
}

static void dispatch(struct conn *c, struct http_job *job)
{
    c->job = job;
    if (job->route && job->route->flags & HTTP_JSON_BODY && job->body.len &&
        !content_type_is_json(job->wsi)) {
        http_problem(&job->resp, &job->req, 415, "unsupported-media-type", "Unsupported media type",
                     "send Content-Type: application/json");
        respond_now(c, job);
        return;
    }
    job->req.body = job->body.data;
    job->req.body_len = job->body.len;
    job->state = JOB_RUNNING;
    if (am_pool_submit(job->srv->pool, job_run, job)) {
        http_problem(&job->resp, &job->req, 503, "unavailable", "Service unavailable, retry",
                     "the server is overloaded");
        respond_now(c, job);
    }
}

static bool valid_token_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '.' || ch == ':';
}

static void read_headers(struct lws *wsi, struct http_req *req)
{
    char buf[512];
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
        strncasecmp(buf, "Bearer ", 7) == 0)
        am_strlcpy(req->bearer, buf + 7, sizeof(req->bearer));
    const char *qt = http_arg(req, "access_token");
    if (!req->bearer[0] && qt)
        am_strlcpy(req->bearer, qt, sizeof(req->bearer));
    int n = lws_hdr_custom_copy(wsi, buf, sizeof(buf), "x-request-id:", 13);
    bool ok = n > 0 && n < (int)sizeof(req->request_id);
    for (int i = 0; ok && i < n; i++)
        ok = valid_token_char(buf[i]);
    if (ok)
        am_strlcpy(req->request_id, buf, sizeof(req->request_id));
    else
        am_id_new(req->request_id);
    n = lws_hdr_custom_copy(wsi, buf, sizeof(buf), "idempotency-key:", 16);
    if (n > 0)
        am_strlcpy(req->idem_key, buf, sizeof(req->idem_key));
    else
        req->idem_key[0] = '\0';
    /* A key too long for the buffer must be refused, never ignored (the write would apply). */
    req->idem_bad = n < 0 && lws_hdr_custom_length(wsi, "idempotency-key:", 16) > 0;
    lws_get_peer_simple(wsi, req->remote, sizeof(req->remote));
    if (lws_hdr_copy(wsi, req->content_type, sizeof(req->content_type),
                     WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        req->content_type[0] = '\0';
    if (lws_hdr_copy(wsi, req->if_none_match, sizeof(req->if_none_match),
                     WSI_TOKEN_HTTP_IF_NONE_MATCH) < 0)
        req->if_none_match[0] = '\0';
}

static int on_http(struct http_server *s, struct lws *wsi, struct conn *c, const char *uri)
{
    if (c->job) {
        job_free(c->job);
        c->job = NULL;
    }
    struct http_job *job = calloc(1, sizeof(*job));
    if (!job)
        return -1;
    job->srv = s;
    job->wsi = wsi;
    job->start_us = am_mono_us();
    am_buf_init(&job->body, s->o.body_limit);
    char *u;
    int ulen;
    int m = lws_http_get_uri_and_method(wsi, &u, &ulen);
    static const enum http_method map[] = {
        [LWSHUMETH_GET] = HTTP_GET,
        [LWSHUMETH_POST] = HTTP_POST,
        [LWSHUMETH_OPTIONS] = HTTP_OPTIONS,
        [LWSHUMETH_PUT] = HTTP_PUT,
        [LWSHUMETH_PATCH] = HTTP_PATCH,
        [LWSHUMETH_DELETE] = HTTP_DELETE,
        [LWSHUMETH_CONNECT] = HTTP_METHOD_OTHER,
        [LWSHUMETH_HEAD] = HTTP_METHOD_OTHER,
        [LWSHUMETH_COLON_PATH] = HTTP_GET,
    };
    job->req.method = m >= 0 && m <= LWSHUMETH_COLON_PATH ? map[m] : HTTP_METHOD_OTHER;
    am_strlcpy(job->method_name, http_method_name(job->req.method), sizeof(job->method_name));

    char arg[1024];
    int bad = 0;
    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(wsi, arg, sizeof(arg), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        if (job->req.nargs == HTTP_MAX_ARGS || !am_utf8_valid(arg, (size_t)n)) {
            bad = 1;
            break;
        }
        job->req.args[job->req.nargs] = strdup(arg);
        if (!job->req.args[job->req.nargs]) {
            job_free(job);
            return -1;
        }
        job->req.nargs++;
    }
    read_headers(wsi, &job->req);
    size_t plen = uri ? strlen(uri) : 0;
    if (!uri || plen >= sizeof(job->req.path) || !am_utf8_valid(uri, plen)) {
        am_strlcpy(job->req.path, "/", sizeof(job->req.path));
        http_problem(&job->resp, &job->req, 400, "bad-request", "Bad request",
                     "the request path is too long or not UTF-8");
        job->resp.close = true;
        return respond_now(c, job);
    }
    am_strlcpy(job->req.path, uri, plen + 1);
    if (bad) {
        http_problem(&job->resp, &job->req, 400, "bad-request", "Bad request",
                     "at most %d query arguments of valid UTF-8", HTTP_MAX_ARGS);
        job->resp.close = true;
        return respond_now(c, job);
    }
    bool has_body = job->req.method == HTTP_POST || job->req.method == HTTP_PUT ||
                    job->req.method == HTTP_PATCH;
    int64_t clen = -1;
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        am_parse_i64(cl, 0, INT64_MAX, &clen))
        clen = -2;

    const struct route *r = NULL;
    enum route_match rm;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    struct http_listener *ls = vh ? lws_get_vhost_user(vh) : NULL;
    if (ls && (void *)ls != (void *)s) {
        /* A device listener: one handler for every path, GET and POST only. */
        r = &ls->route;
        rm = job->req.method == HTTP_GET || job->req.method == HTTP_POST ? ROUTE_FOUND
                                                                         : ROUTE_NO_METHOD;
    } else {
        rm = http_route_find(s, job->req.method, job->req.path, &job->req, &r);
    }
    if (rm == ROUTE_NO_PATH) {
        http_problem(&job->resp, &job->req, 404, "not-found", "Not found", "no such resource");
        job->resp.close = has_body;
        return respond_now(c, job);
    }
    if (rm == ROUTE_NO_METHOD) {
        http_problem(&job->resp, &job->req, 405, "method-not-allowed", "Method not allowed",
                     "%s is not allowed here", job->method_name);
        char allow[64] = "GET, POST";
        if (!r)
            http_route_allowed(s, job->req.path, allow, sizeof(allow));
        snprintf(job->resp.headers, sizeof(job->resp.headers), "allow: %s\r\n", allow);
        job->resp.close = has_body;
        return respond_now(c, job);
    }
    job->route = r;
    if (!has_body) {
        dispatch(c, job);
        return 0;
    }
    /* No Content-Length and no Transfer-Encoding: a request without a body (RFC 9112 6.3). */
    if (clen == -1 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0)
        clen = 0;
    if (clen == -1 || clen == -2) {
        http_problem(&job->resp, &job->req, 411, "length-required", "Length required",
                     "send the body with a valid Content-Length");
        job->resp.close = true;
        return respond_now(c, job);
    }
    if ((size_t)clen > s->o.body_limit) {
        http_problem(&job->resp, &job->req, 413, "payload-too-large", "Payload too large",
                     "body of %lld bytes exceeds the limit of %zu bytes", (long long)clen,
                     s->o.body_limit);
        job->resp.close = true;
        return respond_now(c, job);
    }
    if (clen == 0) {
        dispatch(c, job);
        return 0;
    }
    job->state = JOB_COLLECTING;
    c->job = job;
    return 0;
}

static int on_body(struct conn *c, const void *in, size_t len)
{
    struct http_job *job = c->job;
    if (!job || job->state != JOB_COLLECTING)
        return 0;
    if (am_buf_append(&job->body, in, len)) {
        http_problem(&job->resp, &job->req, 413, "payload-too-large", "Payload too large",
                     "body exceeds the limit of %zu bytes", job->srv->o.body_limit);
        job->resp.close = true;
        respond_now(c, job);
    }
    return 0;
}

static int write_response(struct lws *wsi, struct conn *c)
{
    static unsigned char buf[LWS_PRE + BODY_CHUNK];
    struct http_job *job = c->job;
    if (!job || (job->state != JOB_READY && job->state != JOB_WRITING))
        return 0;
    struct http_resp *r = &job->resp;
    job->state = JOB_WRITING;
    if (!job->headers_sent) {
        unsigned char hdr[LWS_PRE + 2048];
        unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
        const char *ct = r->content_type ? r->content_type : "application/json";
        bool api = strncmp(job->req.path, "/api/", 5) == 0;
        if (lws_add_http_common_headers(wsi, (unsigned)r->status, ct, r->body_len, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                        (const unsigned char *)job->req.request_id,
                                        (int)strlen(job->req.request_id), &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                        (const unsigned char *)"nosniff", 7, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-frame-options:",
                                        (const unsigned char *)"DENY", 4, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"referrer-policy:",
                                        (const unsigned char *)"no-referrer", 11, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                        (const unsigned char *)CSP, (int)strlen(CSP), &p, end))
            return -1;
        if (api && !strcasestr(r->headers, "cache-control:") &&
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end))
            return -1;
        /* Extra headers: "name: value\r\n" lines set by the handler. */
        for (char *line = r->headers; *line;) {
            char *eol = strstr(line, "\r\n");
            char *colon = strchr(line, ':');
            if (!eol || !colon || colon > eol)
                break;
            char name[64];
            size_t nl = (size_t)(colon - line) + 1;
            if (nl >= sizeof(name))
                break;
            memcpy(name, line, nl);
            name[nl] = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                            (const unsigned char *)v, (int)(eol - v), &p, end))
                return -1;
            line = eol + 2;
        }
        if (r->close && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                     (const unsigned char *)"close", 5, &p, end))
            return -1;
        if (lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        job->headers_sent = true;
        if (r->body_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else if (job->sent < r->body_len) {
        size_t n = r->body_len - job->sent;
        if (n > BODY_CHUNK)
            n = BODY_CHUNK;
        memcpy(buf + LWS_PRE, r->body + job->sent, n);
        bool last = job->sent + n == r->body_len;
        if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
            (int)n)
            return -1;
        job->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    access_log(job);
    bool close = r->close;
    job_free(job);
    c->job = NULL;
    if (close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void on_closed(struct conn *c)
{
    struct http_job *job = c->job;
    if (!job)
        return;
    c->job = NULL;
    if (job->state == JOB_RUNNING)
        job->cancelled = true; /* the worker still has it; job_ready frees it */
    else
        job_free(job);
}

static bool is_stream_path(struct lws *wsi)
{
    char uri[256];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return false;
    return strcmp(uri, "/api/v1/stream") == 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct http_server *s = ctx ? lws_context_user(ctx) : NULL;
    struct conn *c = user;
    /* libwebsockets calls some reasons without per-session data, e.g. CLOSED_HTTP for a
     * connection that failed its TLS handshake (plain HTTP sent to an HTTPS port). */
    if (!c) {
        switch (reason) {
        case LWS_CALLBACK_HTTP:
        case LWS_CALLBACK_HTTP_BODY:
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        case LWS_CALLBACK_HTTP_WRITEABLE:
        case LWS_CALLBACK_ESTABLISHED:
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return -1;
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_CLOSED:
        case LWS_CALLBACK_RECEIVE:
            return 0;
        default:
            break;
        }
    }
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(s, wsi, c, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->job && c->job->state == JOB_COLLECTING)
            dispatch(c, c->job);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_response(wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
        on_closed(c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s) {
            run_tasks(s);
            stream_wake(s);
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return is_stream_path(wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED:
        return stream_established(s, wsi, c);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return stream_writeable(s, wsi, c);
    case LWS_CALLBACK_TIMER:
        return stream_timer(s, wsi, c);
    case LWS_CALLBACK_RECEIVE:
        return 0; /* clients have nothing to say on the stream yet */
    case LWS_CALLBACK_CLOSED:
        stream_closed(s, c);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"amane", callback, sizeof(struct conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---------------------------------------------------------------- raw TCP listeners */

struct http_raw {
    pthread_mutex_t mu;
    int refs;
    struct lws *wsi; /* NULL once closed */
    struct http_server *srv;
    const struct http_raw_ops *ops;
    void *arg, *state;
    struct am_buf out;
    bool closing;
};

void http_raw_hold(struct http_raw *c)
{
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
}

void http_raw_release(struct http_raw *c)
{
    pthread_mutex_lock(&c->mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (!last)
        return;
    am_buf_release(&c->out);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* On the loop: ask for a writable callback if the connection is still open. */
static void raw_wake(struct http_server *s, void *arg)
{
    (void)s;
    struct http_raw *c = arg;
    pthread_mutex_lock(&c->mu);
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
    pthread_mutex_unlock(&c->mu);
    http_raw_release(c);
}

static int raw_post_wake(struct http_raw *c)
{
    http_raw_hold(c);
    int rc = http_post_task(c->srv, raw_wake, c);
    if (rc)
        http_raw_release(c);
    return rc;
}

int http_raw_send(struct http_raw *c, const void *buf, size_t len)
{
    pthread_mutex_lock(&c->mu);
    int rc = !c->wsi || c->closing ? AM_ECLOSED : am_buf_append(&c->out, buf, len);
    pthread_mutex_unlock(&c->mu);
    return rc ? rc : raw_post_wake(c);
}

void http_raw_close(struct http_raw *c)
{
    pthread_mutex_lock(&c->mu);
    c->closing = true;
    pthread_mutex_unlock(&c->mu);
    raw_post_wake(c);
}

static int raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    struct http_listener *ls = vh ? lws_get_vhost_user(vh) : NULL;
    struct http_raw **slot = user, *c = slot ? *slot : NULL;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT: {
        if (!ls || !ls->raw || !slot)
            return -1;
        c = calloc(1, sizeof(*c));
        if (!c)
            return -1;
        pthread_mutex_init(&c->mu, NULL);
        c->refs = 1; /* the loop's, until RAW_CLOSE */
        c->wsi = wsi;
        c->srv = ls->srv;
        c->ops = ls->raw;
        c->arg = ls->raw_arg;
        am_buf_init(&c->out, 1024 * 1024);
        *slot = c;
        char remote[64] = "";
        lws_get_peer_simple(wsi, remote, sizeof(remote));
        c->state = c->ops->open(c->arg, c, remote);
        return c->state ? 0 : -1;
    }
    case LWS_CALLBACK_RAW_RX:
        if (!c || !c->state)
            return -1;
        return c->ops->data(c->arg, c->state, in, len) ? -1 : 0;
    case LWS_CALLBACK_RAW_WRITEABLE: {
        if (!c)
            return -1;
        pthread_mutex_lock(&c->mu);
        size_t n = c->out.len;
        unsigned char *buf = n ? malloc(LWS_PRE + n) : NULL;
        if (buf) {
            memcpy(buf + LWS_PRE, c->out.data, n);
            c->out.len = 0;
        }
        bool closing = c->closing;
        pthread_mutex_unlock(&c->mu);
        if (n && !buf)
            return -1;
        int w = n ? lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_RAW) : 0;
        free(buf);
        if (w < (int)n)
            return -1;
        return closing ? -1 : 0;
    }
    case LWS_CALLBACK_RAW_CLOSE:
        if (!c)
            return 0;
        if (c->state)
            c->ops->close(c->arg, c->state);
        c->state = NULL;
        pthread_mutex_lock(&c->mu);
        c->wsi = NULL;
        pthread_mutex_unlock(&c->mu);
        *slot = NULL;
        http_raw_release(c);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols raw_protocols[] = {
    {"amane-raw", raw_callback, sizeof(struct http_raw *), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
    char msg[512];
    log_safe(line, msg, sizeof(msg));
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '?' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    am_log(level & LLL_ERR ? AM_LOG_ERROR : AM_LOG_WARN, "lws", msg, NULL);
}

int http_server_new(struct http_server **out, const struct http_opts *o)
{
    http_metrics_init();
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return AM_ENOMEM;
    s->o = *o;
    am_strlcpy(s->listen, o->listen ? o->listen : "127.0.0.1", sizeof(s->listen));
    am_strlcpy(s->web_root, o->web_root ? o->web_root : "", sizeof(s->web_root));
    am_strlcpy(s->tls_cert, o->tls_cert ? o->tls_cert : "", sizeof(s->tls_cert));
    am_strlcpy(s->tls_key, o->tls_key ? o->tls_key : "", sizeof(s->tls_key));
    s->o.listen = s->listen;
    s->o.web_root = s->web_root;
    pthread_mutex_init(&s->tmu, NULL);
    int rc = stream_init(s);
    if (!rc)
        rc = am_pool_new(&s->pool, o->workers, 4096);
    if (rc)
        goto err;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = o->port;
    info.iface = s->listen;
    info.protocols = protocols;
    info.user = s;
    info.max_http_header_data = 8192;
    /* Each request holds a header slot until it is answered, and a device's report is
     * answered after its batch is durable: 1,024 slots (8 MiB) keep thousands of phones
     * reporting (bench/ingest found 256 capped OsmAnd at 1,280 reports/s). */
    info.max_http_header_pool = 1024;
    info.timeout_secs = 30;
    info.ka_time = 60;
    info.ka_interval = 10;
    info.ka_probes = 3;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (s->tls_cert[0] && s->tls_key[0]) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->tls_cert;
        info.ssl_private_key_filepath = s->tls_key;
    }
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        am_error("http", "cannot start the server", "listen=%s port=%d", s->listen, o->port);
        rc = AM_EIO;
        goto err;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(s->ctx, "default");
    s->port = vh ? lws_get_vhost_listen_port(vh) : o->port;
    *out = s;
    return 0;
err:
    http_server_free(s);
    return rc;
}

/* Adds a listener's vhost on `port`: HTTP to one handler, or raw TCP to `raw`. */
static int add_listener(struct http_server *s, const char *name, int port, http_handler fn,
                        void *arg, const struct http_raw_ops *raw, int *bound)
{
    if (s->nlisteners == HTTP_MAX_LISTENERS)
        return AM_ETOOBIG;
    struct http_listener *ls = &s->listeners[s->nlisteners];
    memset(ls, 0, sizeof(*ls));
    ls->srv = s;
    am_strlcpy(ls->name, name, sizeof(ls->name));
    ls->route.method = HTTP_POST;
    snprintf(ls->route.pattern, sizeof(ls->route.pattern), "%s:*", name);
    ls->route.flags = HTTP_PUBLIC;
    ls->route.fn = fn;
    ls->route.arg = arg;
    ls->raw = raw;
    ls->raw_arg = arg;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = s->listen;
    info.vhost_name = ls->name;
    info.protocols = raw ? raw_protocols : protocols;
    info.user = ls;
    info.timeout_secs = 30;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    if (raw) {
        info.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
        info.listen_accept_role = "raw-skt";
        info.listen_accept_protocol = "amane-raw";
    } else {
        info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
    }
    ls->vh = lws_create_vhost(s->ctx, &info);
    if (!ls->vh) {
        am_error("http", "cannot listen", "name=%s listen=%s port=%d", name, s->listen, port);
        return AM_EIO;
    }
    s->nlisteners++;
    if (bound)
        *bound = lws_get_vhost_listen_port(ls->vh);
    return 0;
}

int http_listen(struct http_server *s, const char *name, int port, http_handler fn, void *arg,
                int *bound)
{
    return add_listener(s, name, port, fn, arg, NULL, bound);
}

int http_listen_raw(struct http_server *s, const char *name, int port,
                    const struct http_raw_ops *ops, void *arg, int *bound)
{
    return add_listener(s, name, port, NULL, arg, ops, bound);
}

int http_port(struct http_server *s)
{
    return s->port;
}

int http_run(struct http_server *s)
{
    while (!s->stopping) {
        if (lws_service(s->ctx, 0) < 0)
            return AM_EIO;
    }
    return 0;
}

void http_stop(struct http_server *s)
{
    s->stopping = 1;
    if (s->ctx)
        lws_cancel_service(s->ctx);
}

void http_drain(struct http_server *s)
{
    if (!s)
        return;
    am_pool_free(s->pool);
    s->pool = NULL;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    /* Workers first: their jobs post tasks that reference the context. */
    http_drain(s);
    if (s->ctx)
        lws_context_destroy(s->ctx);
    struct loop_task *t = s->tasks_head;
    while (t) {
        struct loop_task *next = t->next;
        if (t->fn == job_ready)
            job_free(t->arg);
        else if (t->fn == raw_wake)
            http_raw_release(t->arg);
        free(t);
        t = next;
    }
    stream_release(s);
    pthread_mutex_destroy(&s->tmu);
    free(s);
}
