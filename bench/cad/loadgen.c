/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * loadgen.c - the CAD load of issue 3 against a running amaned: many
 * dispatcher consoles sending the commands of a shift (workload.h) at a
 * fixed total rate, and one supervisor console reading the event stream.
 *
 * One thread, one epoll loop, non-blocking sockets, HTTP/1.1 keep-alive and
 * a WebSocket client written here (no library but jansson and libc), so
 * that the client costs little of the machine it shares with the server.
 *
 * Pacing is open loop: command k of connection i is due at
 * start + i/rate + k*connections/rate. A command whose connection is still
 * waiting for the previous answer when it falls due is sent as soon as that
 * answer arrives and counted as late; nothing is dropped. Latency is the time
 * from writing the request to reading the last byte of the answer; the time
 * from when the command was due is reported too (`from_due`), since a
 * server that falls behind hides its delay from the first figure. With
 * --warmup S the same pacing runs S seconds first, uncounted.
 *
 * Stream delivery latency is, for each event, the wall-clock time the frame
 * was read minus the event's "ts" (both CLOCK_REALTIME on this machine).
 *
 * Setup, before the clock starts: log in (supervisor once, the dispatcher
 * --tokens times, shared round robin by the connections), read the incident
 * types, create the units BENCH-0001... that are missing (and make those of
 * an earlier run available), then open the stream and wait for its hello.
 *
 * Output: one JSON line on stdout. Exit status 0 if the run completed (even
 * with failed commands, which the line counts), 1 if it could not run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/bench.h"
#include "../common/samples.h"

#include "workload.h"

#define MAX_CONNS 1000
#define REQ_MAX   4096
#define RESP_MAX  (16 * 1024 * 1024)
#define WS_TAG    UINT64_MAX

/* ------------------------------------------------------------- options */

static struct {
    const char *host;
    int port;
    double rate;
    int seconds;
    int conns;
    int units;
    int tokens;
    int drain_s;
    int warmup_s;
    uint64_t seed;
    const char *user, *password, *sup_user, *sup_password;
    bool stream;
} opt = {"127.0.0.1",
         8080,
         1000,
         60,
         200,
         2000,
         4,
         10,
         0,
         1,
         "dispatcher",
         "amane-demo-2025",
         "supervisor",
         "amane-demo-2025",
         true};

/* ------------------------------------------------------------- HTTP */

struct resp {
    int status;
    size_t body_off, body_len, total;
    bool close;
};

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    const char *v = line + strlen(name) + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

/*
 * Parses an HTTP/1.1 answer in buf[0..len). Returns 1 when it is complete
 * (r filled), 0 when more bytes are needed, -1 when it is malformed or uses
 * what this client does not speak (chunked bodies: amaned always sends a
 * Content-Length).
 */
static int resp_parse(const char *buf, size_t len, struct resp *r)
{
    const char *eoh = memmem(buf, len, "\r\n\r\n", 4);
    if (!eoh)
        return len > 65536 ? -1 : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
        return -1;
    memset(r, 0, sizeof(*r));
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        r->status = r->status * 10 + (buf[i] - '0');
    }
    size_t hdr_len = (size_t)(eoh - buf) + 4, clen = 0;
    const char *line = memchr(buf, '\n', hdr_len);
    while (line && line + 1 < eoh) {
        line++;
        const char *eol = memchr(line, '\r', (size_t)(eoh + 2 - line));
        if (!eol)
            return -1;
        size_t ll = (size_t)(eol - line), vlen;
        if (header_is(line, ll, "content-length")) {
            const char *v = header_value(line, ll, "content-length", &vlen);
            clen = 0;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9' || clen > RESP_MAX)
                    return -1;
                clen = clen * 10 + (size_t)(v[i] - '0');
            }
        } else if (header_is(line, ll, "transfer-encoding")) {
            return -1;
        } else if (header_is(line, ll, "connection")) {
            const char *v = header_value(line, ll, "connection", &vlen);
            r->close = vlen == 5 && strncasecmp(v, "close", 5) == 0;
        }
        line = memchr(eol, '\n', (size_t)(eoh + 4 - eol));
    }
    if (clen > RESP_MAX)
        return -1;
    if (len < hdr_len + clen)
        return 0;
    r->body_off = hdr_len;
    r->body_len = clen;
    r->total = hdr_len + clen;
    return 1;
}

/* Writes a request into out (REQ_MAX bytes); returns its length, or 0 if it does not fit. */
static size_t req_build(char *out, const char *method, const char *path, const char *token,
                        const char *body)
{
    char auth[256] = "", ctype[96] = "";
    if (token)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
    if (body)
        snprintf(ctype, sizeof(ctype), "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                 strlen(body));
    int n = snprintf(out, REQ_MAX, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s\r\n%s", method, path,
                     opt.host, opt.port, auth, ctype, body ? body : "");
    return n < 0 || n >= REQ_MAX ? 0 : (size_t)n;
}

static struct sockaddr_in server_addr;

static int tcp_socket(bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/*
 * One request on its own blocking connection, for the setup. Returns the
 * status (or -1 on a transport error) and the body in *body (malloc'd,
 * NUL-terminated) if body is not NULL.
 */
static int http_once(const char *method, const char *path, const char *token, const char *json,
                     char **body)
{
    char req[REQ_MAX];
    size_t rlen = req_build(req, method, path, token, json);
    int fd = tcp_socket(false);
    if (!rlen || fd < 0)
        return -1;
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int status = -1;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)))
        goto out;
    for (size_t off = 0; off < rlen;) {
        ssize_t n = write(fd, req + off, rlen - off);
        if (n <= 0)
            goto out;
        off += (size_t)n;
    }
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 131072;
            char *p = realloc(buf, cap + 1);
            if (!p)
                goto out;
            buf = p;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0)
            goto out;
        len += (size_t)n;
        struct resp r;
        int pr = resp_parse(buf, len, &r);
        if (pr < 0)
            goto out;
        if (pr == 1) {
            status = r.status;
            if (body) {
                memmove(buf, buf + r.body_off, r.body_len);
                buf[r.body_len] = '\0';
                *body = buf;
                buf = NULL;
            }
            break;
        }
    }
out:
    free(buf);
    close(fd);
    return status;
}

/* ------------------------------------------------------------- connections */

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_OPEN };

struct conn {
    int id, fd;
    enum conn_state state;
    bool busy; /* a request is out and its answer not read yet */
    const char *token;
    char out[REQ_MAX];
    size_t outlen, outoff;
    char *in;
    size_t inlen, incap;
    bool want_out;      /* EPOLLOUT is armed */
    int64_t sent_us;    /* when the request was written (monotonic) */
    int64_t due_us;     /* when it was due (monotonic) */
    int64_t idle_since; /* when the previous answer arrived */
    int64_t next_due;   /* next command's due time (load phase) */
    uint64_t k;         /* commands sent in the load phase */
    bool setup_job;     /* the request in flight is a setup job */
    struct wl_cmd cmd;
};

static int epfd;
static struct conn *conns;

static void ep_set(struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u64 = (uint64_t)c->id};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = CONN_CLOSED;
    c->inlen = 0;
    c->want_out = false;
}

static int conn_open(struct conn *c)
{
    c->fd = tcp_socket(true);
    if (c->fd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)c->id};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->want_out = true;
    int rc = connect(c->fd, (struct sockaddr *)&server_addr, sizeof(server_addr));
    if (rc && errno != EINPROGRESS) {
        conn_close(c);
        return -1;
    }
    c->state = rc ? CONN_CONNECTING : CONN_OPEN;
    return 0;
}

/* Writes what is pending; arms EPOLLOUT if the socket is full. -1 on error. */
static int conn_flush(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!c->want_out)
                ep_set(c, true);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->outoff += (size_t)n;
    }
    if (c->want_out)
        ep_set(c, false);
    return 0;
}

/* ------------------------------------------------------------- run state */

enum phase { PHASE_SETUP, PHASE_LOAD, PHASE_DRAIN };

static enum phase phase;
static struct wl_model model;
static const char *sup_token;
/* Pacing starts at t_start; what is due before t_measure is warm-up, not counted. */
static int64_t t_start, t_measure, t_end, t_measure_real;

/* Setup jobs: units to create or to make available. */
static struct {
    char (*path)[64];
    char (*body)[128];
    int n, next, done, failed;
} jobs;

static struct {
    uint64_t scheduled, sent, answered, ok, conflict, client_4xx, server_5xx, transport, timeouts,
        late;
    uint64_t kind_ok[WL_NKINDS], kind_conflict[WL_NKINDS], kind_failed[WL_NKINDS];
    struct samples lat, from_due, kind_lat[WL_NKINDS];
    int64_t last_answer;
    uint64_t *per_second;
    int nseconds;
    char first_error[256];
} st;

static void record_error(const char *fmt, ...)
{
    if (st.first_error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.first_error, sizeof(st.first_error), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------- commands */

static void json_escape_into(char *out, size_t n, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    snprintf(out, n, "%s", t ? t : "\"\"");
    free(t);
    json_decref(j);
}

/* The request of a workload command. */
static size_t cmd_request(struct conn *c, const struct wl_cmd *w)
{
    char path[160], body[2048], a[192], b[192], d[320];
    switch (w->kind) {
    case WL_OPEN:
        json_escape_into(a, sizeof(a), w->address);
        json_escape_into(b, sizeof(b), w->caller_name);
        json_escape_into(d, sizeof(d), w->narrative);
        snprintf(path, sizeof(path), "/api/v1/incidents");
        snprintf(body, sizeof(body),
                 "{\"type\":\"%s\",\"caller\":{\"name\":%s,\"phone\":\"%s\"},"
                 "\"location\":{\"lat\":%.6f,\"lon\":%.6f,\"address\":%s},\"narrative\":%s}",
                 w->type, b, w->caller_phone, w->lat, w->lon, a, d);
        break;
    case WL_ASSIGN:
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/assign", w->number);
        snprintf(body, sizeof(body), "{\"unit\":\"%s\"}", w->callsign);
        break;
    case WL_EN_ROUTE:
    case WL_ON_SCENE:
    case WL_AVAILABLE:
        snprintf(path, sizeof(path), "/api/v1/units/%s/status", w->callsign);
        snprintf(body, sizeof(body), "{\"status\":\"%s\"}", w->status);
        break;
    case WL_NOTE:
        json_escape_into(a, sizeof(a), w->text);
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/notes", w->number);
        snprintf(body, sizeof(body), "{\"text\":%s}", a);
        break;
    case WL_CLOSE:
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/close", w->number);
        snprintf(body, sizeof(body), "{\"disposition\":\"%s\"}", w->disposition);
        break;
    default:
        return 0;
    }
    return req_build(c->out, "POST", path, c->token, body);
}

/* Starts a request already in c->out; connects first if needed. -1 on failure. */
static int conn_send(struct conn *c, int64_t now)
{
    c->outoff = 0;
    c->inlen = 0;
    c->busy = true;
    c->sent_us = now;
    if (c->state == CONN_CLOSED && conn_open(c))
        return -1;
    if (c->state == CONN_CONNECTING)
        return 0; /* sent once connected */
    return conn_flush(c);
}

static void finish(struct conn *c, int status, const char *body, size_t blen, int64_t now);

static void fail_transport(struct conn *c, int64_t now, const char *what)
{
    conn_close(c);
    if (c->busy)
        finish(c, -1, what, strlen(what), now);
}

/* The next command of a load connection, if it is due. */
static void load_next(struct conn *c, int64_t now)
{
    if (c->busy || phase == PHASE_SETUP || c->next_due >= t_end || c->next_due > now)
        return;
    wl_next(&model, c->id, &c->cmd);
    size_t n = cmd_request(c, &c->cmd);
    if (!n)
        die("request too long");
    c->outlen = n;
    c->setup_job = false;
    c->due_us = c->next_due;
    if (c->due_us >= t_measure) {
        if (c->idle_since > c->due_us)
            st.late++;
        st.sent++;
    }
    c->k++;
    c->next_due = t_start + (int64_t)((double)c->id * 1e6 / opt.rate +
                                      (double)c->k * opt.conns * 1e6 / opt.rate);
    if (conn_send(c, now))
        fail_transport(c, now, "cannot connect");
}

static void setup_next(struct conn *c, int64_t now)
{
    if (c->busy || phase != PHASE_SETUP || jobs.next >= jobs.n)
        return;
    int j = jobs.next++;
    c->outlen = req_build(c->out, "POST", jobs.path[j], sup_token, jobs.body[j]);
    c->setup_job = true;
    if (conn_send(c, now))
        fail_transport(c, now, "cannot connect");
}

static char *number_of(const char *body, size_t blen)
{
    static char number[64];
    json_t *j = json_loadb(body, blen, 0, NULL);
    const char *n = json_string_value(json_object_get(j, "number"));
    snprintf(number, sizeof(number), "%s", n ? n : "");
    json_decref(j);
    return number[0] ? number : NULL;
}

static void finish(struct conn *c, int status, const char *body, size_t blen, int64_t now)
{
    c->busy = false;
    c->idle_since = now;
    if (c->setup_job) {
        jobs.done++;
        if (status < 200 || (status >= 300 && status != 409)) {
            jobs.failed++;
            record_error("setup: status %d: %.*s", status, (int)(blen > 200 ? 200 : blen), body);
        }
        return;
    }
    const struct wl_cmd *w = &c->cmd;
    enum wl_outcome oc = status >= 200 && status < 300 ? WL_OK
                         : status == 409               ? WL_CONFLICT
                                                       : WL_FAILED;
    if (c->due_us < t_measure) {
        /* Warm-up: the model follows, the figures do not. */
        const char *number = oc == WL_OK && w->kind == WL_OPEN ? number_of(body, blen) : NULL;
        wl_done(&model, w, oc == WL_OK && w->kind == WL_OPEN && !number ? WL_FAILED : oc, number);
        return;
    }
    st.answered += status > 0;
    if (status > 0)
        st.last_answer = now;
    if (oc == WL_OK) {
        st.ok++;
        st.kind_ok[w->kind]++;
    } else if (oc == WL_CONFLICT) {
        st.conflict++;
        st.kind_conflict[w->kind]++;
    } else {
        st.kind_failed[w->kind]++;
        if (status < 0)
            st.transport++;
        else if (status >= 500)
            st.server_5xx++;
        else
            st.client_4xx++;
    }
    if (oc != WL_OK)
        record_error("%s %s %s: %d %.*s", wl_kind_names[w->kind], w->number, w->callsign, status,
                     (int)(blen > 300 ? 300 : blen), body);
    if (status > 0) {
        samples_add(&st.lat, now - c->sent_us);
        samples_add(&st.from_due, now - c->due_us);
        samples_add(&st.kind_lat[w->kind], now - c->sent_us);
        int64_t sec = (now - t_measure) / 1000000;
        if (sec >= 0 && sec < st.nseconds)
            st.per_second[sec]++;
    }
    const char *number = NULL;
    if (oc == WL_OK && w->kind == WL_OPEN) {
        number = number_of(body, blen);
        if (!number) {
            oc = WL_FAILED;
            record_error("open: no number in the answer");
        }
    }
    wl_done(&model, w, oc, number);
}

/* Reads what arrived on a connection and completes its answer. */
static void conn_read(struct conn *c, int64_t now)
{
    for (;;) {
        if (c->incap - c->inlen < 16384) {
            size_t cap = c->incap ? c->incap * 2 : 32768;
            if (cap > RESP_MAX) {
                fail_transport(c, now, "answer too large");
                return;
            }
            char *p = realloc(c->in, cap + 1);
            if (!p)
                die("out of memory");
            c->in = p;
            c->incap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            /* The server closed: an idle keep-alive connection just reconnects later. */
            fail_transport(c, now, n == 0 ? "connection closed by the server" : strerror(errno));
            return;
        }
        c->inlen += (size_t)n;
    }
    if (!c->busy) {
        c->inlen = 0; /* nothing asked: ignore */
        return;
    }
    struct resp r;
    int pr = resp_parse(c->in, c->inlen, &r);
    if (pr < 0) {
        fail_transport(c, now, "malformed answer");
        return;
    }
    if (pr == 0)
        return;
    now = mono_us();
    c->in[r.total < c->inlen ? r.total : c->inlen] = '\0';
    finish(c, r.status, c->in + r.body_off, r.body_len, now);
    c->inlen = 0;
    if (r.close)
        conn_close(c);
}

static void conn_event(struct conn *c, uint32_t events, int64_t now)
{
    if (c->state == CONN_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fail_transport(c, now, strerror(err));
            return;
        }
        c->state = CONN_OPEN;
        if (!c->busy) {
            ep_set(c, false);
            return;
        }
    }
    if (c->state == CONN_OPEN && c->busy && c->outoff < c->outlen && (events & EPOLLOUT)) {
        if (conn_flush(c)) {
            fail_transport(c, now, "write failed");
            return;
        }
    } else if (c->state == CONN_OPEN && c->want_out && (!c->busy || c->outoff >= c->outlen)) {
        ep_set(c, false);
    }
    if (c->state == CONN_OPEN && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_read(c, now);
}

/* ------------------------------------------------------------- WebSocket */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* SHA-1 (FIPS 180-4), only to check Sec-WebSocket-Accept. */
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t total = ((len + 8) / 64 + 1) * 64;
    uint8_t *m = calloc(total, 1);
    if (!m)
        die("out of memory");
    memcpy(m, msg, len);
    m[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        m[total - 1 - i] = (uint8_t)(bits >> (8 * i));
#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
    for (size_t off = 0; off < total; off += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 |
                   (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
        for (int i = 16; i < 80; i++)
            w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            uint32_t t = ROL(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = ROL(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
#undef ROL
    free(m);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static struct {
    int fd;
    bool upgraded, hello, closed;
    char accept[32];
    uint8_t *in;
    size_t inlen, incap;
    char *msg; /* a message being reassembled from fragments */
    size_t msglen, msgcap;
    int64_t head_at_hello, last_seq, max_seq;
    uint64_t events, gaps, bad;
    struct samples lat;
    char why[128];
} ws = {.fd = -1};

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)) to microseconds since the epoch. */
static bool parse_rfc3339(const char *s, size_t len, int64_t *us)
{
    int y, mo, d, h, mi, se;
    if (len < 20 || !num(s, 4, &y) || s[4] != '-' || !num(s + 5, 2, &mo) || s[7] != '-' ||
        !num(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !num(s + 11, 2, &h) || s[13] != ':' || !num(s + 14, 2, &mi) || s[16] != ':' ||
        !num(s + 17, 2, &se) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return false;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        int digits = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
            if (digits < 6)
                frac = frac * 10 + (s[i] - '0');
        if (!digits)
            return false;
        for (; digits < 6; digits++)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (!num(s + i + 1, 2, &oh) || !num(s + i + 4, 2, &om))
            return false;
        off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *us = secs * 1000000 + frac;
    return true;
}

/* Finds "key": in a flat position of the JSON text and returns what follows. */
static const char *field(const char *json, size_t len, const char *key)
{
    char pat[32];
    int n = snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = memmem(json, len, pat, (size_t)n);
    return p ? p + n : NULL;
}

static void ws_message(const char *m, size_t len, int64_t arrival)
{
    /* Only the head of the frame is searched: "data" may hold anything. */
    size_t head = len < 200 ? len : 200;
    const char *t = field(m, head, "type");
    if (!ws.hello) {
        if (t && !strncmp(t, "\"stream.hello\"", 14)) {
            const char *h = field(m, len, "head");
            ws.head_at_hello = h ? strtoll(h, NULL, 10) : 0;
            ws.last_seq = ws.max_seq = ws.head_at_hello;
            ws.hello = true;
        }
        return;
    }
    const char *sq = field(m, head, "seq"), *ts = field(m, head, "ts");
    int64_t seq = sq ? strtoll(sq, NULL, 10) : 0, ts_us;
    const char *q = ts && *ts == '"' ? memchr(ts + 1, '"', (size_t)(m + head - ts - 1)) : NULL;
    if (!seq || !q || !parse_rfc3339(ts + 1, (size_t)(q - ts - 1), &ts_us)) {
        ws.bad++;
        return;
    }
    ws.events++;
    if (seq > ws.last_seq + 1)
        ws.gaps += (uint64_t)(seq - ws.last_seq - 1);
    ws.last_seq = seq;
    if (seq > ws.max_seq)
        ws.max_seq = seq;
    if (phase != PHASE_SETUP && t_measure_real && ts_us >= t_measure_real)
        samples_add(&ws.lat, arrival - ts_us);
}

static int ws_write_frame(int opcode, const uint8_t *payload, size_t len)
{
    uint8_t f[256];
    if (len > 125)
        return -1;
    uint8_t key[4];
    uint32_t r = (uint32_t)mono_us() * 2654435761u;
    memcpy(key, &r, 4);
    f[0] = (uint8_t)(0x80 | opcode);
    f[1] = (uint8_t)(0x80 | len);
    memcpy(f + 2, key, 4);
    for (size_t i = 0; i < len; i++)
        f[6 + i] = payload[i] ^ key[i % 4];
    return write(ws.fd, f, 6 + len) == (ssize_t)(6 + len) ? 0 : -1;
}

static void ws_fail(const char *why)
{
    if (!ws.why[0])
        snprintf(ws.why, sizeof(ws.why), "%s", why);
    ws.closed = true;
    if (ws.fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, ws.fd, NULL);
        close(ws.fd);
        ws.fd = -1;
    }
}

/* Parses the complete frames in ws.in; on a protocol error, closes the stream (ws.closed). */
static void ws_frames(int64_t arrival)
{
    size_t pos = 0;
    while (ws.inlen - pos >= 2) {
        const uint8_t *p = ws.in + pos;
        bool fin = p[0] & 0x80, masked = p[1] & 0x80;
        int op = p[0] & 0x0f;
        uint64_t len = p[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (ws.inlen - pos < 4)
                break;
            len = (uint64_t)p[2] << 8 | p[3];
            hl = 4;
        } else if (len == 127) {
            if (ws.inlen - pos < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | p[2 + i];
            hl = 10;
        }
        if (masked)
            hl += 4;
        if (len > RESP_MAX) {
            ws_fail("frame too large");
            return;
        }
        if (ws.inlen - pos < hl + len)
            break;
        uint8_t *payload = ws.in + pos + hl;
        if (masked)
            for (uint64_t i = 0; i < len; i++)
                payload[i] ^= p[hl - 4 + i % 4];
        if (op == 0x1 || op == 0x2 || op == 0x0) {
            if (op != 0x0)
                ws.msglen = 0;
            if (fin && op != 0x0) {
                ws_message((const char *)payload, (size_t)len, arrival);
            } else {
                if (ws.msglen + len > ws.msgcap) {
                    ws.msgcap = (ws.msglen + len) * 2;
                    ws.msg = realloc(ws.msg, ws.msgcap);
                    if (!ws.msg)
                        die("out of memory");
                }
                memcpy(ws.msg + ws.msglen, payload, len);
                ws.msglen += len;
                if (fin) {
                    ws_message(ws.msg, ws.msglen, arrival);
                    ws.msglen = 0;
                }
            }
        } else if (op == 0x9) {
            if (ws_write_frame(0xA, payload, (size_t)len)) {
                ws_fail("cannot answer a ping");
                return;
            }
        } else if (op == 0x8) {
            char why[128];
            snprintf(why, sizeof(why), "closed by the server: %.*s",
                     len > 2 ? (int)(len - 2 > 100 ? 100 : len - 2) : 0, (char *)payload + 2);
            ws_write_frame(0x8, payload, len > 2 ? 2 : (size_t)len);
            ws_fail(why);
            return;
        }
        pos += hl + len;
    }
    memmove(ws.in, ws.in + pos, ws.inlen - pos);
    ws.inlen -= pos;
}

static void ws_event(void)
{
    for (;;) {
        if (ws.incap - ws.inlen < 65536) {
            ws.incap = ws.incap ? ws.incap * 2 : 262144;
            ws.in = realloc(ws.in, ws.incap + 1);
            if (!ws.in)
                die("out of memory");
        }
        ssize_t n = read(ws.fd, ws.in + ws.inlen, ws.incap - ws.inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            ws_fail(n == 0 ? "stream closed by the server" : strerror(errno));
            return;
        }
        int64_t arrival = real_us();
        ws.inlen += (size_t)n;
        if (!ws.upgraded) {
            ws.in[ws.inlen] = '\0';
            char *eoh = strstr((char *)ws.in, "\r\n\r\n");
            if (!eoh)
                continue;
            if (strncmp((char *)ws.in, "HTTP/1.1 101", 12)) {
                char why[128];
                snprintf(why, sizeof(why), "no upgrade: %.60s", (char *)ws.in);
                ws_fail(why);
                return;
            }
            if (!strcasestr((char *)ws.in, ws.accept)) {
                ws_fail("bad Sec-WebSocket-Accept");
                return;
            }
            size_t hl = (size_t)(eoh + 4 - (char *)ws.in);
            memmove(ws.in, ws.in + hl, ws.inlen - hl);
            ws.inlen -= hl;
            ws.upgraded = true;
        }
        ws_frames(arrival);
        if (ws.closed)
            return;
    }
}

static void ws_start(const char *token)
{
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)wl_rand(&(uint64_t){(uint64_t)mono_us() + (uint64_t)i * 7919 + 1}, 256);
    char key64[32], cat[96];
    base64(key, 16, key64);
    snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key64);
    uint8_t dig[20];
    sha1((const uint8_t *)cat, strlen(cat), dig);
    base64(dig, 20, ws.accept);
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/stream?access_token=%s HTTP/1.1\r\nHost: %s:%d\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     token, opt.host, opt.port, key64);
    ws.fd = tcp_socket(false);
    if (ws.fd < 0 || connect(ws.fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) ||
        write(ws.fd, req, (size_t)n) != n)
        die("cannot open the stream: %s", strerror(errno));
    fcntl(ws.fd, F_SETFL, fcntl(ws.fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WS_TAG};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, ws.fd, &ev))
        die("epoll_ctl: %s", strerror(errno));
}

/* ------------------------------------------------------------- loop */

/* Runs the loop once: waits at most until `deadline` (monotonic µs), handles what is ready. */
static void pump(int64_t deadline)
{
    struct epoll_event evs[256];
    int64_t now = mono_us();
    int64_t wait = deadline > now ? deadline - now : 0;
    struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
    int n = epoll_pwait2(epfd, evs, 256, &ts, NULL);
    if (n < 0 && errno != EINTR)
        die("epoll_pwait2: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        now = mono_us();
        if (evs[i].data.u64 == WS_TAG) {
            if (ws.fd >= 0)
                ws_event();
            continue;
        }
        struct conn *c = &conns[evs[i].data.u64];
        if (c->fd >= 0)
            conn_event(c, evs[i].events, now);
    }
}

static int busy_count(void)
{
    int n = 0;
    for (int i = 0; i < opt.conns; i++)
        n += conns[i].busy;
    return n;
}

static void run_setup_jobs(void)
{
    phase = PHASE_SETUP;
    int64_t deadline = mono_us() + 600 * 1000000LL;
    while (jobs.done < jobs.n) {
        int64_t now = mono_us();
        if (now > deadline)
            die("setup did not finish in 10 minutes");
        for (int i = 0; i < opt.conns; i++)
            setup_next(&conns[i], now);
        pump(now + 100000);
    }
    if (jobs.failed)
        die("%d of %d setup requests failed (%s)", jobs.failed, jobs.n, st.first_error);
}

static double commits0 = -1, commands0 = -1;
static void store_counters(double *commits, double *commands);

static void run_load(void)
{
    st.nseconds = opt.seconds + opt.drain_s + 2;
    st.per_second = calloc((size_t)st.nseconds, sizeof(*st.per_second));
    if (!st.per_second)
        die("out of memory");
    int64_t mono0 = mono_us(), real0 = real_us();
    t_start = mono0 + 100000;
    t_measure = t_start + (int64_t)opt.warmup_s * 1000000;
    t_measure_real = real0 + (t_measure - mono0);
    t_end = t_measure + (int64_t)opt.seconds * 1000000;
    for (int i = 0; i < opt.conns; i++) {
        conns[i].next_due = t_start + (int64_t)((double)i * 1e6 / opt.rate);
        conns[i].idle_since = 0;
        conns[i].k = 0;
    }
    /* Commands due in [t_measure, t_end), whatever happens to them: the pacing's own sum. */
    for (int i = 0; i < opt.conns; i++) {
        for (uint64_t k = 0;; k++) {
            int64_t due = t_start + (int64_t)((double)i * 1e6 / opt.rate +
                                              (double)k * opt.conns * 1e6 / opt.rate);
            if (due >= t_end)
                break;
            st.scheduled += due >= t_measure;
        }
    }
    phase = PHASE_LOAD;
    int64_t drain_end = t_end + (int64_t)opt.drain_s * 1000000;
    bool counted = false;
    for (;;) {
        int64_t now = mono_us();
        if (!counted && now >= t_measure) {
            /* One blocking request, once: the store's counters at the start line. */
            store_counters(&commits0, &commands0);
            counted = true;
            now = mono_us();
        }
        int64_t next = now + 50000;
        for (int i = 0; i < opt.conns; i++) {
            struct conn *c = &conns[i];
            load_next(c, now);
            if (!c->busy && c->next_due < t_end && c->next_due < next)
                next = c->next_due;
        }
        if (now >= t_end) {
            if (phase == PHASE_LOAD)
                phase = PHASE_DRAIN;
            if (!busy_count())
                break;
            if (now >= drain_end) {
                for (int i = 0; i < opt.conns; i++) {
                    if (conns[i].busy) {
                        st.timeouts++;
                        fail_transport(&conns[i], now, "no answer before the end of the drain");
                    }
                }
                break;
            }
        }
        pump(next);
    }
}

/* ------------------------------------------------------------- setup */

static char *login(const char *user, const char *password)
{
    char body[256], *resp = NULL;
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    int status = http_once("POST", "/api/v1/auth/login", NULL, body, &resp);
    if (status != 200)
        die("cannot log in as %s: status %d: %.200s", user, status, resp ? resp : "");
    json_t *j = json_loads(resp, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    char *token = t ? strdup(t) : NULL;
    json_decref(j);
    free(resp);
    if (!token)
        die("no token in the login answer");
    return token;
}

static json_t *get_items(const char *path, const char *token)
{
    char *resp = NULL;
    int status = http_once("GET", path, token, NULL, &resp);
    if (status != 200)
        die("GET %s: status %d", path, status);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    json_t *items = json_incref(json_object_get(j, "items"));
    json_decref(j);
    if (!json_is_array(items))
        die("GET %s: no items", path);
    return items;
}

/* A value of the Prometheus text at /metrics, or -1. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (!strncmp(p, name, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return -1;
}

static void store_counters(double *commits, double *commands)
{
    char *text = NULL;
    *commits = *commands = -1;
    if (http_once("GET", "/metrics", NULL, NULL, &text) == 200) {
        *commits = metric(text, "amane_store_commits_total");
        *commands = metric(text, "amane_store_commands_total");
    }
    free(text);
}

static int64_t healthz_head(void)
{
    char *resp = NULL;
    int64_t head = -1;
    if (http_once("GET", "/healthz", NULL, NULL, &resp) == 200) {
        json_t *j = json_loads(resp, 0, NULL);
        head = json_integer_value(json_object_get(j, "head_seq"));
        json_decref(j);
    }
    free(resp);
    return head;
}

static void usage(void)
{
    fputs("usage: cad_loadgen [--host H] [--port P] [--rate R] [--seconds S] [--connections C]\n"
          "                   [--units N] [--tokens T] [--drain S] [--seed N] [--no-stream]\n"
          "                   [--warmup S]\n"
          "                   [--user U --password P] [--supervisor U --supervisor-password P]\n",
          stderr);
    exit(2);
}

static long num_arg(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        die("bad %s '%s' (%ld..%ld)", what, s, lo, hi);
    return v;
}

static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {
        {"host", 1, 0, 'h'},
        {"port", 1, 0, 'p'},
        {"rate", 1, 0, 'r'},
        {"seconds", 1, 0, 's'},
        {"connections", 1, 0, 'c'},
        {"units", 1, 0, 'u'},
        {"tokens", 1, 0, 't'},
        {"drain", 1, 0, 'd'},
        {"seed", 1, 0, 'S'},
        {"no-stream", 0, 0, 'n'},
        {"warmup", 1, 0, 'w'},
        {"user", 1, 0, 'U'},
        {"password", 1, 0, 'P'},
        {"supervisor", 1, 0, 'V'},
        {"supervisor-password", 1, 0, 'W'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'h':
            opt.host = optarg;
            break;
        case 'p':
            opt.port = (int)num_arg(optarg, 1, 65535, "port");
            break;
        case 'r':
            opt.rate = (double)num_arg(optarg, 1, 1000000, "rate");
            break;
        case 's':
            opt.seconds = (int)num_arg(optarg, 1, 3600, "seconds");
            break;
        case 'c':
            opt.conns = (int)num_arg(optarg, 1, MAX_CONNS, "connections");
            break;
        case 'u':
            opt.units = (int)num_arg(optarg, 1, 9999, "units");
            break;
        case 't':
            opt.tokens = (int)num_arg(optarg, 1, 64, "tokens");
            break;
        case 'd':
            opt.drain_s = (int)num_arg(optarg, 1, 600, "drain");
            break;
        case 'w':
            opt.warmup_s = (int)num_arg(optarg, 0, 600, "warmup");
            break;
        case 'S':
            opt.seed = (uint64_t)num_arg(optarg, 0, 1L << 40, "seed");
            break;
        case 'n':
            opt.stream = false;
            break;
        case 'U':
            opt.user = optarg;
            break;
        case 'P':
            opt.password = optarg;
            break;
        case 'V':
            opt.sup_user = optarg;
            break;
        case 'W':
            opt.sup_password = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    bench_prog = "loadgen";
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1)
        die("--host must be an IPv4 address, not '%s'", opt.host);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));

    /* Tokens: the supervisor's, and a few dispatcher tokens shared round robin. */
    sup_token = login(opt.sup_user, opt.sup_password);
    char **tokens = calloc((size_t)opt.tokens, sizeof(*tokens));
    if (!tokens)
        die("out of memory");
    for (int i = 0; i < opt.tokens; i++)
        tokens[i] = login(opt.user, opt.password);

    /* Incident types from the server's code list. */
    json_t *types_j = get_items("/api/v1/incident-types", tokens[0]);
    const char **types = calloc(json_array_size(types_j) + 1, sizeof(*types));
    int ntypes = 0;
    size_t i;
    json_t *v;
    json_array_foreach(types_j, i, v)
    {
        if (json_is_true(json_object_get(v, "active")) &&
            json_string_value(json_object_get(v, "code")))
            types[ntypes++] = json_string_value(json_object_get(v, "code"));
    }
    if (!ntypes)
        die("no active incident type");

    conns = calloc((size_t)opt.conns, sizeof(*conns));
    if (!conns)
        die("out of memory");
    for (int c = 0; c < opt.conns; c++) {
        conns[c].id = c;
        conns[c].fd = -1;
        conns[c].token = tokens[c % opt.tokens];
    }

    /* Units: create the missing ones, make the others available. */
    json_t *units_j = get_items("/api/v1/units", sup_token);
    char *present = calloc((size_t)opt.units, 1), *status_ok = calloc((size_t)opt.units, 1);
    jobs.path = calloc((size_t)opt.units, sizeof(*jobs.path));
    jobs.body = calloc((size_t)opt.units, sizeof(*jobs.body));
    if (!present || !status_ok || !jobs.path || !jobs.body)
        die("out of memory");
    json_array_foreach(units_j, i, v)
    {
        const char *cs = json_string_value(json_object_get(v, "callsign"));
        const char *s = json_string_value(json_object_get(v, "status"));
        int n;
        if (cs && sscanf(cs, "BENCH-%4d", &n) == 1 && n >= 1 && n <= opt.units) {
            present[n - 1] = 1;
            status_ok[n - 1] = s && !strcmp(s, "available");
        }
    }
    json_decref(units_j);
    int created = 0, reset = 0;
    for (int u = 0; u < opt.units; u++) {
        char cs[16];
        wl_callsign(u, cs);
        if (!present[u]) {
            snprintf(jobs.path[jobs.n], sizeof(jobs.path[0]), "/api/v1/units");
            snprintf(jobs.body[jobs.n], sizeof(jobs.body[0]),
                     "{\"callsign\":\"%s\",\"kind\":\"car_patrol\",\"home_sector\":\"CAS-S%02d\"}",
                     cs, 1 + u % 6);
            jobs.n++;
            created++;
        } else if (!status_ok[u]) {
            snprintf(jobs.path[jobs.n], sizeof(jobs.path[0]), "/api/v1/units/%s/status", cs);
            snprintf(jobs.body[jobs.n], sizeof(jobs.body[0]), "{\"status\":\"available\"}");
            jobs.n++;
            reset++;
        }
    }
    int64_t t0 = mono_us();
    run_setup_jobs();
    note("setup: %d units created, %d made available, in %.1f s", created, reset,
         (double)(mono_us() - t0) / 1e6);
    free(present);
    free(status_ok);

    if (wl_init(&model, opt.units, opt.conns, types, ntypes, opt.seed))
        die("cannot set up the workload model");

    if (opt.stream) {
        ws_start(sup_token);
        int64_t deadline = mono_us() + 10000000;
        while (!ws.hello && !ws.closed && mono_us() < deadline)
            pump(mono_us() + 100000);
        if (!ws.hello)
            die("no stream hello: %s", ws.why[0] ? ws.why : "timed out");
    }

    double commits1, commands1;
    note("load: %.0f commands/s for %d s (after %d s of warm-up) over %d connections", opt.rate,
         opt.seconds, opt.warmup_s, opt.conns);
    run_load();
    store_counters(&commits1, &commands1);

    /* Wait for the stream to deliver up to the head the server reports. */
    int64_t head = healthz_head(), missing = 0;
    if (opt.stream && head > 0) {
        int64_t deadline = mono_us() + 10000000;
        while (ws.max_seq < head && !ws.closed && mono_us() < deadline)
            pump(mono_us() + 50000);
        missing = head > ws.max_seq ? head - ws.max_seq : 0;
    }

    double elapsed = (double)((st.last_answer > t_end ? st.last_answer : t_end) - t_measure) / 1e6;
    uint64_t sec_min = UINT64_MAX, sec_max = 0;
    for (int s = 0; s < opt.seconds; s++) {
        if (st.per_second[s] < sec_min)
            sec_min = st.per_second[s];
        if (st.per_second[s] > sec_max)
            sec_max = st.per_second[s];
    }
    json_t *per_second = json_array(), *mix = json_object(), *kinds = json_object();
    for (int s = 0; s < opt.seconds; s++)
        json_array_append_new(per_second, json_integer((json_int_t)st.per_second[s]));
    for (int k = 0; k < WL_NKINDS; k++) {
        json_object_set_new(mix, wl_kind_names[k], json_integer((json_int_t)model.counts[k]));
        json_t *sk = samples_summary(&st.kind_lat[k]);
        json_object_set_new(sk, "ok", json_integer((json_int_t)st.kind_ok[k]));
        json_object_set_new(sk, "conflict", json_integer((json_int_t)st.kind_conflict[k]));
        json_object_set_new(sk, "failed", json_integer((json_int_t)st.kind_failed[k]));
        json_object_set_new(kinds, wl_kind_names[k], sk);
    }
    json_t *out = json_pack(
        "{ss sf si si si si si sI sI sI sI sI sI sI sI sI sI sI sf sf sf sI sI so so so so so}",
        "tool", "loadgen", "target_rate", opt.rate, "seconds", opt.seconds, "warmup_s",
        opt.warmup_s, "connections", opt.conns, "units", opt.units, "tokens", opt.tokens,
        "scheduled", (json_int_t)st.scheduled, "sent", (json_int_t)st.sent, "answered",
        (json_int_t)st.answered, "ok", (json_int_t)st.ok, "conflict_409", (json_int_t)st.conflict,
        "client_4xx", (json_int_t)st.client_4xx, "server_5xx", (json_int_t)st.server_5xx,
        "transport_errors", (json_int_t)st.transport, "timeouts", (json_int_t)st.timeouts, "late",
        (json_int_t)st.late, "units_lost", (json_int_t)model.units_lost, "elapsed_s",
        round(elapsed * 1000) / 1000, "rate", round(st.answered / elapsed * 10) / 10, "ok_rate",
        round(st.ok / elapsed * 10) / 10, "per_second_min",
        (json_int_t)(sec_min == UINT64_MAX ? 0 : sec_min), "per_second_max", (json_int_t)sec_max,
        "latency", samples_summary(&st.lat), "from_due", samples_summary(&st.from_due), "by_kind",
        kinds, "mix", mix, "per_second", per_second);
    if (commits1 > commits0 && commands1 >= commands0)
        json_object_set_new(
            out, "store",
            json_pack("{sI sI sf}", "commits", (json_int_t)(commits1 - commits0), "commands",
                      (json_int_t)(commands1 - commands0), "commands_per_commit",
                      round((commands1 - commands0) / (commits1 - commits0) * 100) / 100));
    if (opt.stream) {
        json_t *s = samples_summary(&ws.lat);
        json_object_set_new(s, "events", json_integer((json_int_t)ws.events));
        json_object_set_new(s, "head", json_integer((json_int_t)head));
        json_object_set_new(s, "last_seq", json_integer((json_int_t)ws.max_seq));
        json_object_set_new(s, "gaps", json_integer((json_int_t)ws.gaps));
        json_object_set_new(s, "missing", json_integer((json_int_t)missing));
        json_object_set_new(s, "unparsed", json_integer((json_int_t)ws.bad));
        json_object_set_new(s, "closed", json_string(ws.why[0] ? ws.why : ""));
        json_object_set_new(out, "stream", s);
    }
    if (st.first_error[0])
        json_object_set_new(out, "first_error", json_string(st.first_error));
    char *line = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
    if (!line)
        die("cannot format the result");
    puts(line);
    free(line);
    json_decref(out);
    json_decref(types_j);
    return 0;
}
