/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * httpload.c - the records benchmark end to end (docs/BENCHMARKS.md): the
 * query sets of bench_records (names.tsv, plates.tsv) sent to a running
 * amaned as POST /api/v1/persons/search and POST /api/v1/hotlist/check,
 * each with a reason, so each answer waits for its access-log entry to be
 * durable (a store command, group-committed with the other readers').
 *
 * Closed loop: --connections keep-alive connections, each on its own thread
 * with one request out at a time, the queries in turn from an offset of
 * its own, for --seconds after --warmup seconds not counted. Latency runs
 * from the request's first byte written to the answer's last byte read.
 * Logs in first as --user (password on stdin).
 *
 * Output: one JSON line on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/bench.h"
#include "../common/samples.h"

#define RESP_MAX (8u << 20)

static struct {
    int port;
    const char *kind; /* names | plates */
    const char *file;
    const char *user;
    int conns;
    int seconds, warmup;
    int limit;
} opt = {0, NULL, NULL, "benchrec", 1, 20, 3, 10};

static struct sockaddr_in server;
static char *token;

/* The bodies to send, made once. */
static char **bodies;
static size_t nbodies;

static int64_t t_measure, t_end;

struct worker {
    pthread_t thread;
    int id;
    struct samples lat;
    uint64_t ok, client_err, server_err, transport;
    int first_bad_status;
    char first_bad_body[200];
};

/* ------------------------------------------------------------- HTTP */

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&server, sizeof(server))) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

struct resp {
    int status;
    bool close;
    char *buf; /* the whole answer, NUL-terminated; body at body_off */
    size_t cap, len, body_off, body_len;
};

/* Reads one answer (Content-Length bodies only, as amaned sends). 0, or -1. */
static int resp_read(int fd, struct resp *r)
{
    r->len = 0;
    size_t hdr = 0, clen = 0;
    for (;;) {
        if (r->cap - r->len < 65536) {
            size_t cap = r->cap ? r->cap * 2 : 131072;
            char *p = realloc(r->buf, cap + 1);
            if (!p)
                return -1;
            r->buf = p;
            r->cap = cap;
        }
        ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
        r->buf[r->len] = '\0';
        if (!hdr) {
            char *eoh = memmem(r->buf, r->len, "\r\n\r\n", 4);
            if (!eoh)
                continue;
            hdr = (size_t)(eoh - r->buf) + 4;
            if (r->len < 12 || memcmp(r->buf, "HTTP/1.", 7))
                return -1;
            r->status = (int)strtol(r->buf + 9, NULL, 10);
            r->close = false;
            for (char *l = strstr(r->buf, "\r\n"); l && l < eoh; l = strstr(l + 2, "\r\n")) {
                if (strncasecmp(l + 2, "content-length:", 15) == 0)
                    clen = strtoull(l + 17, NULL, 10);
                else if (strncasecmp(l + 2, "connection: close", 17) == 0)
                    r->close = true;
            }
            if (clen > RESP_MAX)
                return -1;
        }
        if (r->len >= hdr + clen) {
            r->body_off = hdr;
            r->body_len = clen;
            return 0;
        }
    }
}

static char *request(const char *path, const char *auth, const char *body, size_t *len)
{
    size_t blen = strlen(body), cap = blen + 512 + (auth ? strlen(auth) : 0);
    char *req = malloc(cap);
    if (!req)
        die("out of memory");
    int n = snprintf(req, cap,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%sContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     path, opt.port, auth ? "Authorization: Bearer " : "", auth ? auth : "",
                     auth ? "\r\n" : "", blen, body);
    *len = (size_t)n;
    return req;
}

static void login(void)
{
    char pw[256];
    if (!fgets(pw, sizeof(pw), stdin))
        die("give the password on stdin");
    pw[strcspn(pw, "\r\n")] = '\0';
    json_t *b = json_pack("{ss ss}", "username", opt.user, "password", pw);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    size_t len;
    char *req = request("/api/v1/auth/login", NULL, body, &len);
    free(body);
    int fd = tcp_connect();
    struct resp r = {0};
    if (fd < 0 || !write_all(fd, req, len) || resp_read(fd, &r))
        die("cannot log in: no answer from 127.0.0.1:%d", opt.port);
    if (r.status != 200)
        die("cannot log in as %s: status %d: %.200s", opt.user, r.status, r.buf + r.body_off);
    json_t *j = json_loads(r.buf + r.body_off, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    if (!t)
        die("no token in the login answer");
    token = strdup(t);
    json_decref(j);
    free(r.buf);
    free(req);
    close(fd);
}

/* ------------------------------------------------------------- queries */

static void bodies_read(void)
{
    FILE *f = fopen(opt.file, "r");
    if (!f)
        die("cannot open '%s': %s", opt.file, strerror(errno));
    char *line = NULL;
    size_t lcap = 0, cap = 0;
    bool names = strcmp(opt.kind, "names") == 0;
    const char *path = names ? "/api/v1/persons/search" : "/api/v1/hotlist/check";
    while (getline(&line, &lcap, f) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fld[8];
        int n = 0;
        fld[n++] = line;
        for (char *p = line; *p && n < 8; p++)
            if (*p == '\t') {
                *p = '\0';
                fld[n++] = p + 1;
            }
        json_t *b;
        /* names.tsv: set, variant, CIN, query; plates.tsv: set, form, expected, country, text */
        if (names && n >= 4)
            b = json_pack("{ss ss ss si}", "name", fld[3], "reason", "benchmark: name search",
                          "ref", "BENCH-1", "limit", opt.limit);
        else if (!names && n >= 5)
            b = json_pack("{ss ss ss ss}", "plate", fld[4], "country", fld[3], "reason",
                          "benchmark: hotlist check", "ref", "BENCH-1");
        else
            continue;
        char *body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        if (nbodies == cap) {
            cap = cap ? cap * 2 : 1024;
            bodies = realloc(bodies, cap * sizeof(*bodies));
            if (!bodies)
                die("out of memory");
        }
        size_t len;
        bodies[nbodies++] = request(path, token, body, &len);
        free(body);
    }
    free(line);
    fclose(f);
    if (!nbodies)
        die("no queries in '%s'", opt.file);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct resp r = {0};
    int fd = -1;
    size_t k = (size_t)w->id * (nbodies / (size_t)opt.conns + 1);
    for (;;) {
        int64_t now = mono_us();
        if (now >= t_end)
            break;
        if (fd < 0 && (fd = tcp_connect()) < 0) {
            w->transport++;
            usleep(10000);
            continue;
        }
        const char *req = bodies[k++ % nbodies];
        int64_t t0 = mono_us();
        bool ok = write_all(fd, req, strlen(req)) && resp_read(fd, &r) == 0;
        int64_t us = mono_us() - t0;
        bool counted = t0 >= t_measure && t0 < t_end;
        if (!ok) {
            close(fd);
            fd = -1;
            if (counted)
                w->transport++;
            continue;
        }
        if (counted) {
            samples_add(&w->lat, us);
            if (r.status >= 200 && r.status < 300) {
                w->ok++;
            } else {
                if (r.status >= 500)
                    w->server_err++;
                else
                    w->client_err++;
                if (!w->first_bad_status) {
                    w->first_bad_status = r.status;
                    snprintf(w->first_bad_body, sizeof(w->first_bad_body), "%.150s",
                             r.buf + r.body_off);
                }
            }
        }
        if (r.close) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(r.buf);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_prog = "records_httpload";
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        if (strcmp(a, "--port") == 0)
            opt.port = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--kind") == 0)
            opt.kind = v;
        else if (strcmp(a, "--file") == 0)
            opt.file = v;
        else if (strcmp(a, "--user") == 0)
            opt.user = v;
        else if (strcmp(a, "--connections") == 0)
            opt.conns = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0)
            opt.seconds = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--warmup") == 0)
            opt.warmup = (int)strtol(v, NULL, 10);
        else
            die("unknown argument '%s'", a);
    }
    if (opt.port < 1 || opt.port > 65535 || !opt.kind || !opt.file || opt.conns < 1 ||
        opt.conns > 1000 || opt.seconds < 1 ||
        (strcmp(opt.kind, "names") && strcmp(opt.kind, "plates")))
        die("usage: records_httpload --port P --kind names|plates --file TSV [--user U]"
            " [--connections C] [--seconds S] [--warmup S]  (password on stdin)");
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)opt.port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    login();
    bodies_read();

    struct worker *w = calloc((size_t)opt.conns, sizeof(*w));
    if (!w)
        die("out of memory");
    int64_t start = mono_us();
    t_measure = start + (int64_t)opt.warmup * 1000000;
    t_end = t_measure + (int64_t)opt.seconds * 1000000;
    for (int i = 0; i < opt.conns; i++) {
        w[i].id = i;
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
            die("cannot start a thread");
    }
    struct samples all = {0};
    uint64_t ok = 0, c4 = 0, c5 = 0, tr = 0;
    int bad = 0;
    const char *bad_body = "";
    for (int i = 0; i < opt.conns; i++) {
        pthread_join(w[i].thread, NULL);
        samples_merge(&all, &w[i].lat);
        ok += w[i].ok;
        c4 += w[i].client_err;
        c5 += w[i].server_err;
        tr += w[i].transport;
        if (!bad && w[i].first_bad_status) {
            bad = w[i].first_bad_status;
            bad_body = w[i].first_bad_body;
        }
    }
    double secs = (double)(t_end - t_measure) / 1e6;
    json_t *res = json_pack("{ss ss si si sI sf sI sI sI so}", "tool", "httpload", "kind", opt.kind,
                            "connections", opt.conns, "seconds", opt.seconds, "answered",
                            (json_int_t)all.n, "per_s", round((double)all.n / secs * 10) / 10, "ok",
                            (json_int_t)ok, "client_4xx", (json_int_t)c4, "server_5xx_transport",
                            (json_int_t)(c5 + tr), "latency", samples_summary(&all));
    if (bad)
        json_object_set_new(res, "first_error",
                            json_pack("{si ss}", "status", bad, "body", bad_body));
    char *line = json_dumps(res, JSON_COMPACT);
    puts(line);
    free(line);
    json_decref(res);
    return 0;
}
