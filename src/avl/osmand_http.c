/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * osmand_http.c - the OsmAnd port's own small HTTP/1.1 server, on the raw
 * TCP listener of src/http. The Traccar Client app sends one request per
 * position on a keep-alive connection, from thousands of phones at once;
 * libwebsockets' HTTP server re-arms a timeout kept in one sorted list on
 * every request, a walk over every connection (docs/BENCHMARKS.md). Here a
 * request costs a parse of its bytes, the decoder and the intake.
 *
 * Framing (strict, for this one purpose): a request line of a method token,
 * an origin-form target and HTTP/1.0 or 1.1; headers up to 8 KiB in all,
 * CRLF line ends, no folding, Host required in 1.1; a body only by
 * Content-Length, up to 64 KiB; Transfer-Encoding (chunked) is answered
 * 411 and the connection closed. GET and POST are decoded; other methods
 * get 405 and the connection stays usable. A request the parser cannot
 * frame gets its 4xx and the connection is closed after it.
 *
 * Answers go in request order (pipelining): each request takes a place in
 * the connection's queue of answers; a report waits there until its trail
 * batch is durable (the intake's done callback, on the store's writer), a
 * refusal is ready at once, and the queue is sent from its head as far as
 * answers are ready. At most OSM_MAX_QUEUED answers may wait per
 * connection (a phone has one in flight); beyond that it is closed.
 *
 * Timeouts without a sorted list: each connection has a deadline, set when
 * bytes arrive or its last answer goes (a request must be whole 10 s after
 * its first byte; an idle connection is kept 60 s; none while answers
 * wait on us), and one thread looks at every connection's deadline once a
 * second and closes the late ones (amane_avl_osmand_timeouts_total).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "avl/avl.h"
#include "avl/osmand_http.h"
#include "http/http.h"

#define OSM_REQUEST_US (10 * 1000000LL) /* a request must be whole this long after its start */
#define OSM_IDLE_US    (60 * 1000000LL) /* an idle keep-alive connection is closed after this */
#define OSM_MAX_QUEUED 256              /* answers waiting per connection */

/* ------------------------------------------------------------ parser */

static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A byte of a header value (RFC 9110 field-vchar, SP, HTAB, obs-text). */
static bool value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Whether the name at p (length n) is `want` (lowercase), case aside. */
static bool name_is(const char *p, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(p, want, n) == 0;
}

/* A refusal of the parser: its status, and the reason. */
static int refuse(const char **why, int status, const char *reason)
{
    if (why)
        *why = reason;
    return status;
}

/*
 * Checks the request line buf[0..n) (CRLF excluded): method SP target SP
 * HTTP/x.y. Fills the method, target and version fields of *req (offsets:
 * *msp is the method's SP, *tsp the target's SP). Returns 0 or a status.
 */
static int request_line(const char *buf, size_t n, struct osmand_http_req *req, size_t *msp,
                        size_t *tsp, const char **why)
{
    size_t i = 0;
    while (i < n && tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= n || buf[i] != ' ')
        return refuse(why, 400, "malformed request line: a method token and a space expected");
    *msp = i;
    if (i == 3 && memcmp(buf, "GET", 3) == 0)
        req->method = OSMAND_HTTP_GET;
    else if (i == 4 && memcmp(buf, "POST", 4) == 0)
        req->method = OSMAND_HTTP_POST;
    else
        req->method = OSMAND_HTTP_OTHER;
    size_t t = ++i;
    if (t >= n || buf[t] != '/')
        return refuse(why, 400, "malformed request line: the target must begin with '/'");
    while (i < n && buf[i] != ' ') {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return refuse(why, 400, "malformed request line: a byte not allowed in a target");
        i++;
    }
    if (i >= n)
        return refuse(why, 400, "malformed request line: no HTTP version");
    *tsp = i++;
    if (n - i != 8 || memcmp(buf + i, "HTTP/", 5) != 0 || buf[i + 5] < '0' || buf[i + 5] > '9' ||
        buf[i + 6] != '.' || buf[i + 7] < '0' || buf[i + 7] > '9')
        return refuse(why, 400, "malformed request line: HTTP/1.1 or HTTP/1.0 expected");
    if (buf[i + 5] != '1')
        return refuse(why, 505, "only HTTP/1.1 and HTTP/1.0 are spoken here");
    req->minor = buf[i + 7] == '0' ? 0 : 1; /* a higher 1.x is read as 1.1 (RFC 9110 2.5) */
    return 0;
}

/* Whether the comma-separated list v[0..n) has the token `tok`, case aside. */
static bool list_has(const char *v, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s && name_is(v + s, e - s, tok))
            return true;
    }
    return false;
}

int osmand_http_parse(char *buf, size_t len, struct osmand_http_req *req, size_t *used,
                      size_t *scan, const char **why)
{
    memset(req, 0, sizeof(*req));
    *used = 0;
    if (why)
        *why = "";
    /* Empty lines before a request line are skipped (RFC 9112 2.2), within the head's limit. */
    size_t start = 0;
    while (start + 2 <= len && buf[start] == '\r' && buf[start + 1] == '\n')
        start += 2;
    if (start > OSMAND_HTTP_MAX_HEAD)
        return refuse(why, 400, "too many empty lines before the request");
    if (start == len || (start + 1 == len && buf[start] == '\r'))
        return OSMAND_HTTP_MORE;

    /* The request line, as soon as it is whole: garbage is refused without waiting. */
    const char *rl = buf + start;
    const char *rl_end = memmem(rl, len - start, "\r\n", 2);
    if (!rl_end) {
        for (size_t i = start; i < len; i++) {
            unsigned char c = (unsigned char)buf[i];
            if ((c < 0x20 && !(c == '\r' && i + 1 == len)) || c >= 0x7f)
                return refuse(why, 400, "malformed request line: a byte not allowed there");
        }
        if (len > OSMAND_HTTP_MAX_HEAD)
            return refuse(why, 414, "the request line is longer than 8 KiB");
        return OSMAND_HTTP_MORE;
    }
    size_t rl_len = (size_t)(rl_end - rl), msp = 0, tsp = 0;
    if (start + rl_len + 2 > OSMAND_HTTP_MAX_HEAD)
        return refuse(why, 414, "the request line is longer than 8 KiB");
    int rc = request_line(rl, rl_len, req, &msp, &tsp, why);
    if (rc)
        return rc;

    /* The end of the head: looked for from where the previous call stopped. */
    size_t from = start + rl_len;
    if (scan && *scan > from && *scan < len)
        from = *scan;
    const char *eoh = memmem(buf + from, len - from, "\r\n\r\n", 4);
    if (!eoh) {
        if (scan)
            *scan = len > 3 ? len - 3 : 0;
        if (len > OSMAND_HTTP_MAX_HEAD)
            return refuse(why, 431, "the request's headers are longer than 8 KiB");
        return OSMAND_HTTP_MORE;
    }
    size_t head_len = (size_t)(eoh - buf) + 4;
    if (head_len > OSMAND_HTTP_MAX_HEAD)
        return refuse(why, 431, "the request's headers are longer than 8 KiB");

    /* Headers: name ":" OWS value OWS CRLF, one a line. */
    bool have_length = false, have_te = false, have_host = false, conn_close = false,
         conn_keep = false;
    size_t clen = 0, ct_off = 0, ct_end = 0;
    bool have_ct = false;
    size_t p = start + rl_len + 2;
    while (p < head_len - 2) {
        const char *line = buf + p;
        const char *eol = memmem(line, head_len - p, "\r\n", 2);
        size_t n = (size_t)(eol - line);
        size_t i = 0;
        while (i < n && tchar((unsigned char)line[i]))
            i++;
        if (i == 0 || i >= n || line[i] != ':')
            return refuse(why, 400,
                          n && (line[0] == ' ' || line[0] == '\t')
                              ? "folded header lines are not accepted"
                              : "malformed header line");
        size_t name_len = i++;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        size_t v = i, ve = n;
        while (ve > v && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
            ve--;
        for (size_t k = v; k < ve; k++)
            if (!value_char((unsigned char)line[k]))
                return refuse(why, 400, "a header value has a control character");
        const char *val = line + v;
        size_t vlen = ve - v;
        if (name_is(line, name_len, "content-length")) {
            if (have_length)
                return refuse(why, 400, "Content-Length given more than once");
            have_length = true;
            if (vlen == 0)
                return refuse(why, 400, "Content-Length is not a number");
            for (size_t k = 0; k < vlen; k++) {
                if (val[k] < '0' || val[k] > '9')
                    return refuse(why, 400, "Content-Length is not a number");
                if (clen <= OSMAND_HTTP_MAX_BODY) /* beyond, the exact value does not matter */
                    clen = clen * 10 + (size_t)(val[k] - '0');
            }
        } else if (name_is(line, name_len, "transfer-encoding")) {
            have_te = true;
        } else if (name_is(line, name_len, "host")) {
            if (have_host)
                return refuse(why, 400, "Host given more than once");
            have_host = true;
        } else if (name_is(line, name_len, "connection")) {
            conn_close = conn_close || list_has(val, vlen, "close");
            conn_keep = conn_keep || list_has(val, vlen, "keep-alive");
        } else if (name_is(line, name_len, "content-type")) {
            if (have_ct)
                return refuse(why, 400, "Content-Type given more than once");
            have_ct = true;
            ct_off = p + v;
            ct_end = p + ve;
        } else if (name_is(line, name_len, "expect")) {
            if (!name_is(val, vlen, "100-continue"))
                return refuse(why, 417, "only Expect: 100-continue is understood");
            req->expect_continue = true;
        }
        p += n + 2;
    }
    if (have_te)
        return refuse(why, have_length ? 400 : 411,
                      have_length ? "both Transfer-Encoding and Content-Length"
                                  : "Transfer-Encoding is not accepted: send a Content-Length");
    if (req->minor == 1 && !have_host)
        return refuse(why, 400, "an HTTP/1.1 request needs a Host header");
    if (clen > OSMAND_HTTP_MAX_BODY)
        return refuse(why, 413, "the body is longer than 64 KiB");
    req->keep_alive = req->minor == 1 ? !conn_close : conn_keep && !conn_close;
    req->head_done = true;
    if (len - head_len < clen)
        return OSMAND_HTTP_MORE;

    /* Whole: the head's strings are cut in place. */
    buf[start + msp] = '\0';
    buf[start + tsp] = '\0';
    req->method_name = buf + start;
    req->path = buf + start + msp + 1;
    char *q = memchr(buf + start + msp + 1, '?', tsp - msp - 1);
    if (q) {
        *q = '\0';
        req->query = q + 1;
    }
    if (have_ct) {
        buf[ct_end] = '\0';
        req->content_type = buf + ct_off;
    } else {
        req->content_type = "";
    }
    req->body = buf + head_len;
    req->body_len = clen;
    *used = head_len + clen;
    if (scan)
        *scan = 0;
    return 0;
}

/* ------------------------------------------------------------ answers */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

/* The 200 of a durable report, by what the connection does after it. */
static const char ok_keep[] = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
                              "content-length: 0\r\n\r\n";
static const char ok_keep10[] = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                "content-length: 0\r\nconnection: keep-alive\r\n\r\n";
static const char ok_close[] = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
                               "content-length: 0\r\nconnection: close\r\n\r\n";

/* One request's place in its connection's queue of answers. */
struct osm_answer {
    struct osm_answer *next;
    struct osm_conn *conn;
    bool ready;
    bool close;  /* the connection closes after this answer */
    bool keep10; /* an HTTP/1.0 keep-alive request: say so */
    bool failed; /* no answer could be made (out of memory): close without one */
    char *text;  /* the whole answer (malloc'd), or NULL for a 200 */
};

/*
 * Renders a problem+json answer into a->text (RFC 9457, as the API's):
 * `path` (may be NULL) becomes its instance. Returns 0 or AM_ENOMEM.
 */
static int render_problem(struct osm_answer *a, int status, const char *slug, const char *title,
                          const char *path, const char *detail)
{
    struct http_req *req = NULL;
    struct http_req r;
    if (path) {
        memset(&r, 0, sizeof(r));
        am_strlcpy(r.path, path, sizeof(r.path));
        am_id_new(r.request_id);
        req = &r;
    }
    struct http_resp resp = {0};
    if (detail)
        http_problem(&resp, req, status, slug, title, "%s", detail);
    else
        http_problem(&resp, req, status, slug, title, NULL);
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = am_buf_printf(&b,
                           "HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\n"
                           "content-length: %zu\r\nx-content-type-options: nosniff\r\n%s",
                           resp.status, reason_phrase(resp.status), resp.body_len,
                           resp.status == 405 ? "allow: GET, POST\r\n" : "");
    if (!rc && req)
        rc = am_buf_printf(&b, "x-request-id: %s\r\n", req->request_id);
    if (!rc && a->close)
        rc = am_buf_append(&b, "connection: close\r\n", 19);
    else if (!rc && a->keep10)
        rc = am_buf_append(&b, "connection: keep-alive\r\n", 24);
    if (!rc)
        rc = am_buf_append(&b, "\r\n", 2);
    if (!rc && resp.body_len)
        rc = am_buf_append(&b, resp.body, resp.body_len);
    free(resp.body);
    free(a->text);
    a->text = rc ? NULL : am_buf_steal(&b);
    am_buf_release(&b);
    /* Never a 200 in its place: the device would drop a report it must send again. */
    a->failed = !a->text || !resp.status;
    return a->failed ? AM_ENOMEM : 0;
}

/* The answer to a report refused by the decoder or the intake (as the API maps errors). */
static void render_refusal(struct osm_answer *a, int rc, const char *path, const char *why)
{
    if (rc == AM_ENOTFOUND)
        render_problem(a, 400, "unknown-device", "Unknown device", path,
                       "this device is not registered for OsmAnd");
    else if (rc == AM_EINVAL)
        render_problem(a, 400, "invalid-position", "Invalid position report", path, why);
    else if (rc == AM_EBUSY)
        render_problem(a, 429, "too-many-reports", "Too many reports", path,
                       "this device reports too often, or the server is saturated");
    else if (rc == AM_ETOOBIG)
        render_problem(a, 413, "payload-too-large", "Payload too large", path, why);
    else
        render_problem(a, 500, "internal", "Internal error", path, NULL);
}

/* The answer to a request that could not be framed (parser statuses). */
static void render_framing(struct osm_answer *a, int status, const char *why)
{
    const char *slug = "malformed-request", *title = "Malformed request";
    switch (status) {
    case 411:
        slug = "length-required", title = "Length required";
        break;
    case 413:
        slug = "payload-too-large", title = "Payload too large";
        break;
    case 414:
        slug = "uri-too-long", title = "Request line too long";
        break;
    case 417:
        slug = "expectation-failed", title = "Expectation failed";
        break;
    case 431:
        slug = "headers-too-large", title = "Request headers too large";
        break;
    case 505:
        slug = "http-version-not-supported", title = "HTTP version not supported";
        break;
    default:
        status = 400;
        break;
    }
    render_problem(a, status, slug, title, NULL, why);
}

/* ------------------------------------------------------------ connections */

struct osm_conn {
    pthread_mutex_t mu; /* refs, the answers, open, partial */
    int refs;           /* the loop's until close, and one per report awaiting durability */
    struct avl *avl;
    struct http_raw *raw; /* held for the connection's lifetime */
    bool open;            /* until the loop's close callback */
    bool partial;         /* bytes of a request not whole yet (under mu, for the deadline) */
    struct osm_answer *head, *tail;
    size_t nanswers;

    /* The sweeper's: the list of open connections (under sweep_mu) and the deadline. */
    struct osm_conn *prev, *next;
    _Atomic int64_t deadline_us; /* monotonic; INT64_MAX: none */
    bool swept;

    /* The loop's only. */
    bool closing;   /* an answer closes the connection: read no more */
    bool continued; /* "100 Continue" sent for the current request */
    int64_t request_start_us;
    char *in;
    size_t inlen, incap, scan;
};

static struct am_counter c_timeouts = {
    "amane_avl_osmand_timeouts_total",
    "OsmAnd connections closed for sending a request too slowly or staying idle", NULL, 0, NULL};
static struct am_counter c_refused = {
    "amane_avl_osmand_malformed_total",
    "OsmAnd requests refused for their framing (the connection is closed after the answer)", NULL,
    0, NULL};

static pthread_mutex_t sweep_mu = PTHREAD_MUTEX_INITIALIZER;
static struct osm_conn *sweep_list;

static void conn_release(struct osm_conn *c)
{
    pthread_mutex_lock(&c->mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (!last)
        return;
    for (struct osm_answer *a = c->head, *next; a; a = next) {
        next = a->next;
        free(a->text);
        free(a);
    }
    http_raw_release(c->raw);
    free(c->in);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/*
 * Sends the answers ready at the head of the queue, in order; closes the
 * connection after one that says so. Called with c->mu held, from the loop
 * or the store's writer: the lock keeps the order of what is sent.
 */
static void flush_locked(struct osm_conn *c)
{
    if (!c->open || !c->head || !c->head->ready)
        return;
    struct am_buf out;
    am_buf_init(&out, 0);
    bool close = false;
    int rc = 0;
    while (c->head && c->head->ready && !close && !rc) {
        struct osm_answer *a = c->head;
        const char *t = a->text ? a->text : a->close ? ok_close : a->keep10 ? ok_keep10 : ok_keep;
        close = a->close;
        c->head = a->next;
        if (!c->head)
            c->tail = NULL;
        c->nanswers--;
        if (a->failed)
            rc = AM_ENOMEM;
        else if (!out.len && (close || !c->head || !c->head->ready))
            rc = http_raw_send(c->raw, t, strlen(t)); /* the usual case: one answer */
        else
            rc = am_buf_append(&out, t, strlen(t));
        free(a->text);
        free(a);
    }
    if (out.len) { /* the answers before a failure still go, then the connection closes */
        int sent = http_raw_send(c->raw, out.data, out.len);
        rc = rc ? rc : sent;
    }
    am_buf_release(&out);
    if (close || rc)
        http_raw_close(c->raw);
    if (!c->head && !c->partial)
        atomic_store_explicit(&c->deadline_us, am_mono_us() + OSM_IDLE_US, memory_order_relaxed);
}

/* A new place at the tail of the queue, or NULL. Called with c->mu held. */
static struct osm_answer *answer_add(struct osm_conn *c, bool close, bool keep10)
{
    struct osm_answer *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->conn = c;
    a->close = close;
    a->keep10 = keep10;
    if (c->tail)
        c->tail->next = a;
    else
        c->head = a;
    c->tail = a;
    c->nanswers++;
    return a;
}

/* The intake's done callback: the report's batch is durable (rc 0) or failed. */
static void osm_durable(void *arg, int rc)
{
    struct osm_answer *a = arg;
    struct osm_conn *c = a->conn;
    if (rc)
        render_refusal(a, AM_EIO, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    a->ready = true;
    flush_locked(c);
    pthread_mutex_unlock(&c->mu);
    conn_release(c);
}

/* One whole request: decoded and ingested, or refused; its answer queued. */
static void osm_request(struct osm_conn *c, const struct osmand_http_req *r)
{
    bool close = !r->keep_alive, keep10 = r->keep_alive && r->minor == 0;
    pthread_mutex_lock(&c->mu);
    struct osm_answer *a = answer_add(c, close, keep10);
    pthread_mutex_unlock(&c->mu);
    if (!a) {
        http_raw_close(c->raw);
        c->closing = true;
        return;
    }
    char why[200] = "";
    int rc = 0;
    if (r->method == OSMAND_HTTP_OTHER) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%.20s is not allowed here", r->method_name);
        render_problem(a, 405, "method-not-allowed", "Method not allowed", r->path, detail);
    } else {
        struct avl_fix fix;
        rc = avl_osmand_decode(r->query, r->body, r->body_len, r->content_type, am_now_us(), &fix,
                               why, sizeof(why));
        if (!rc) {
            /* The answer waits for the batch: the connection is kept for it. */
            pthread_mutex_lock(&c->mu);
            c->refs++;
            pthread_mutex_unlock(&c->mu);
            rc = avl_ingest(c->avl, AVL_OSMAND, &fix, osm_durable, a);
            if (!rc)
                return;
            conn_release(c); /* not the last reference: the loop holds one */
        }
        render_refusal(a, rc, r->path, why);
    }
    pthread_mutex_lock(&c->mu);
    a->ready = true;
    pthread_mutex_unlock(&c->mu);
}

static void *osm_open(void *arg, struct http_raw *raw, const char *remote)
{
    (void)remote;
    struct osm_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->refs = 1;
    c->avl = arg;
    c->raw = raw;
    c->open = true;
    http_raw_hold(raw);
    /* A new connection must send its first request within the request time. */
    atomic_init(&c->deadline_us, am_mono_us() + OSM_REQUEST_US);
    pthread_mutex_lock(&sweep_mu);
    c->next = sweep_list;
    if (sweep_list)
        sweep_list->prev = c;
    sweep_list = c;
    pthread_mutex_unlock(&sweep_mu);
    return c;
}

static void osm_close(void *arg, void *state)
{
    (void)arg;
    struct osm_conn *c = state;
    pthread_mutex_lock(&sweep_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        sweep_list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&sweep_mu);
    pthread_mutex_lock(&c->mu);
    c->open = false;
    pthread_mutex_unlock(&c->mu);
    conn_release(c);
}

static int osm_data(void *arg, void *state, const uint8_t *buf, size_t len)
{
    (void)arg;
    struct osm_conn *c = state;
    if (c->closing)
        return 0; /* an answer closes the connection: what follows is not read */
    int64_t now = am_mono_us();
    if (c->inlen == 0)
        c->request_start_us = now;
    if (am_grow(&c->in, &c->incap, c->inlen + len + 1, 1, 1024))
        return -1;
    memcpy(c->in + c->inlen, buf, len);
    c->inlen += len;
    size_t off = 0;
    while (!c->closing && off < c->inlen) {
        struct osmand_http_req r;
        size_t used = 0;
        const char *why = "";
        pthread_mutex_lock(&c->mu);
        bool too_many = c->nanswers >= OSM_MAX_QUEUED;
        pthread_mutex_unlock(&c->mu);
        if (too_many) {
            /* Not a phone: requests pipelined far ahead of their answers. */
            http_raw_close(c->raw);
            c->closing = true;
            break;
        }
        int rc = osmand_http_parse(c->in + off, c->inlen - off, &r, &used, &c->scan, &why);
        if (rc == OSMAND_HTTP_MORE) {
            if (r.head_done && r.expect_continue && !c->continued) {
                c->continued = true;
                pthread_mutex_lock(&c->mu);
                /* Only when nothing is before it: an interim answer must not pass others. */
                if (!c->head)
                    http_raw_send(c->raw, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                pthread_mutex_unlock(&c->mu);
            }
            break;
        }
        c->scan = 0;
        c->continued = false;
        if (rc) {
            am_counter_add(&c_refused, 1);
            pthread_mutex_lock(&c->mu);
            struct osm_answer *a = answer_add(c, true, false);
            if (a) {
                render_framing(a, rc, why);
                a->ready = true;
            } else {
                http_raw_close(c->raw);
            }
            pthread_mutex_unlock(&c->mu);
            c->closing = true;
            break;
        }
        osm_request(c, &r);
        off += used;
        c->request_start_us = now;
        if (!r.keep_alive)
            c->closing = true;
    }
    if (c->closing) {
        c->inlen = 0;
    } else if (off) {
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
    }
    if (c->inlen == 0 && c->incap > 16 * 1024) { /* a large body went: give its room back */
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
    pthread_mutex_lock(&c->mu);
    c->partial = c->inlen > 0;
    int64_t deadline = c->partial ? c->request_start_us + OSM_REQUEST_US
                       : c->head  ? INT64_MAX
                                  : now + OSM_IDLE_US;
    atomic_store_explicit(&c->deadline_us, deadline, memory_order_relaxed);
    flush_locked(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static const struct http_raw_ops osm_ops = {osm_open, osm_data, osm_close};

/* Once a second: closes the connections past their deadline. */
static void *sweeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        int64_t now = am_mono_us();
        pthread_mutex_lock(&sweep_mu);
        for (struct osm_conn *c = sweep_list; c; c = c->next) {
            if (c->swept || atomic_load_explicit(&c->deadline_us, memory_order_relaxed) > now)
                continue;
            c->swept = true;
            am_counter_add(&c_timeouts, 1);
            http_raw_close(c->raw);
        }
        pthread_mutex_unlock(&sweep_mu);
    }
    return NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_rc;

static void start_once(void)
{
    am_counter_register(&c_timeouts);
    am_counter_register(&c_refused);
    /* For the process's lifetime: it only reads the list of open connections. */
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    once_rc = pthread_create(&t, &attr, sweeper, NULL) ? AM_ENOMEM : 0;
    pthread_attr_destroy(&attr);
}

int avl_osmand_listen(struct avl *a, struct http_server *srv, int port, int *bound)
{
    pthread_once(&once, start_once);
    if (once_rc)
        return once_rc;
    return http_listen_raw(srv, "osmand", port, &osm_ops, a, bound);
}
