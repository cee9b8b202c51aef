/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_simulate.c - `amane simulate`: patrol cars that drive the road graph,
 * report their positions to a running amaned as real devices do (OsmAnd over
 * HTTP, Teltonika Codec 8 over TCP, or JSON telemetry through an MQTT
 * broker), and answer dispatches like a crew: en route, on scene, then
 * available again. It makes the demo a living city and exercises the field
 * link end to end. One thread and one poll loop: every exchange with the
 * server is a non-blocking socket, so a hundred cars waiting for their
 * acknowledgements cost nothing but file descriptors.
 *
 * Over MQTT each car is its own libmosquitto client (client id = device id,
 * as a vehicle kit is), but no client runs a thread of its own: the loop
 * polls their sockets and calls mosquitto_loop_read/write/misc, so five
 * hundred cars are five hundred connections, not five hundred threads.
 *
 * With --calls-per-hour it is also the city that calls: incidents opened at
 * random times (Poisson arrivals) on random points of the road graph, with a
 * caller, a type and a narrative, as a call-taker would; and, with
 * --room-after, the command room for those calls: it dispatches the nearest
 * simulated crew to a call still waiting, and closes the call once its crews
 * have cleared. A human dispatcher who acts first keeps the call.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mosquitto.h>

#include "app/cli.h"
#include "avl/avl.h"

#define SIM_MAX_UNITS    500              /* each holds a socket or two */
#define SIM_QUEUE        64               /* positions a unit keeps until they are acknowledged */
#define SIM_POLL_US      (2 * 1000000LL)  /* how often the crews look at their status */
#define SIM_REPORT_US    (60 * 1000000LL) /* one line of what happened, per minute */
#define SIM_WAIT_US      (10 * 1000000LL) /* for an answer, before the exchange fails */
#define SIM_RETRY_US     (2 * 1000000LL)  /* after a failed report, before the next */
#define SIM_DRAIN_US     (3 * 1000000LL)  /* at the end, for the last acknowledgements */
#define SIM_ANSWER_MAX   (8u << 20)       /* bytes of one HTTP answer */
#define SIM_ERRORS_SHOWN 10               /* error lines a minute; the others are counted */
#define SIM_NEAR_M       5000.0           /* a patrol's next destination, if one is this near */
#define SIM_MQTT_KEEP_S  30               /* MQTT keepalive, as amaned's own client */
#define SIM_MQTT_TOPIC   "amane/v1/units/"
#define SIM_MAX_CALLS    1024 /* calls of its own the simulator opens or watches at once */
#define SIM_ROOM_BUSY    16 /* requests of the calls and the room waiting for the server at once */
#define SIM_CALL_TRIES   5  /* to open a call, before it is given up */
#define SIM_REC_K        50 /* recommendations asked for: the first simulated crew among them */

struct sim_fix {
    int64_t ms;
    double lat, lon, speed_mps, bearing;
    bool siren, lightbar; /* told over MQTT only */
};

enum sim_protocol { SIM_OSMAND, SIM_TELTONIKA, SIM_MQTT };
/* The protocols' names, as amaned's device registry has them. */
static const char *const sim_protocols[] = {"osmand", "teltonika", "mqtt"};
enum crew { CREW_PATROL, CREW_RESPONDING, CREW_ON_SCENE };
enum tlt_state { TLT_CLOSED, TLT_HELLO, TLT_IDLE, TLT_ACK };

struct sim;

struct sim_unit {
    struct sim *sim; /* for the MQTT callbacks */
    char callsign[32], device[64];
    double lat, lon, bearing, speed_mps;
    struct geo_route route; /* being driven: segment `seg`, `seg_off` metres into it */
    size_t seg;
    double seg_off, route_mps;
    enum crew crew;
    char incident[48];  /* the incident answered */
    bool has_target;    /* its location is known and routed to */
    int64_t until_us;   /* on scene until; or, without a location, arrives then */
    int64_t changed_us; /* the crew's last decision: a status read before it is out of date */
    int64_t next_us, last_us;
    struct sim_fix queue[SIM_QUEUE]; /* not yet acknowledged, oldest at qhead */
    size_t qhead, qlen;
    size_t inflight;  /* Teltonika: records of the packet sent; MQTT: published, not acknowledged */
    int64_t retry_us; /* after a failure, no report before this */
    bool osmand_busy;
    int fd; /* the Teltonika session */
    enum tlt_state tlt;
    uint8_t out[16 + SIM_QUEUE * 32], in[4];
    size_t outlen, outsent, inlen;
    int64_t deadline_us;
    struct mosquitto *mq; /* the MQTT client; its queue holds the `inflight` publications */
    bool mq_started, mq_up;
};

enum xfer_kind {
    XF_SYNC,
    XF_OSMAND,
    XF_POLL,
    XF_INCIDENT,
    XF_STATUS,
    XF_ACK,
    /* the calls and the room (struct sim_call) */
    XF_CALL_OPEN,
    XF_CALL_LOOK,
    XF_CALL_RECOMMEND,
    XF_CALL_ASSIGN,
    XF_CALL_CLOSE,
};

/*
 * A call of the simulator's own: being opened (its request kept, to be sent
 * again with the same Idempotency-Key), then, while the room plays, watched.
 */
struct sim_call {
    char key[64];       /* the Idempotency-Key of its opening; its other requests add a step */
    char number[48];    /* the incident's, once opened */
    json_t *body;       /* the request that opens it, until it is opened */
    int tries;          /* to open it */
    unsigned steps;     /* requests made about it, for their keys */
    bool busy;          /* one of its requests waits for the server */
    bool dispatch_done; /* dispatched, by the room or by a human: the room dispatches no more */
    bool gone;          /* closed, given up or not watched: forgotten when not busy */
    int64_t next_us;    /* its next step: to (re)send the opening, or the room's next look */
};

/* One HTTP exchange on its own connection ("Connection: close"). */
struct xfer {
    enum xfer_kind kind;
    struct sim_unit *unit;
    int fd;
    struct am_buf buf; /* the request, then the answer */
    size_t sent;
    bool reading, done;
    int64_t start_us, deadline_us;
    char arg[48];          /* the status set, or the incident asked for */
    struct sim_call *call; /* XF_CALL_*: the call it is about */
    int status;            /* of the answer, 0 before */
    json_t *json;          /* its body, if JSON */
};

struct sim_count {
    unsigned long long sent, acked, answered, on_scene, cleared, errors, commands, pings;
    unsigned long long calls, room_dispatched, closed;
};

struct sim {
    struct geo_roads *g;
    struct geo_roads_info info;
    double snap_max_m, speedup;
    int64_t interval_us, login_after_us;
    struct sockaddr_storage api, osmand, tlt;
    char hostport[300], user[64], password[256], token[256], mqtt_host[256];
    int mqtt_port;
    enum sim_protocol protocol;
    bool relogin, poll_soon; /* poll_soon: an assignment came over MQTT, look now */
    bool mqtt_lib;           /* mosquitto_lib_init() was called */
    struct sim_unit *u;
    size_t n;
    struct xfer **xf; /* in flight, at most maxxf */
    size_t nxf, maxxf;
    struct sim_count minute, total;
    unsigned shown;
    uint64_t rng;
    /* The calls: their rate, the room's delay (real time, 0: no room), its requests in flight. */
    int64_t calls_per_hour, room_after_us, next_call_us;
    struct sim_call **calls; /* at most SIM_MAX_CALLS */
    size_t ncalls, room_busy;
    unsigned long long call_seq;
    char run_id[24]; /* in the Idempotency-Keys: this run's, not an earlier one's */
    bool draining;   /* at the end: requests under way finish, nothing new starts */
};

#define COUNT(s, field, k) ((s)->minute.field += (k), (s)->total.field += (k))

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static int usage(void)
{
    fputs("usage: amane simulate --server http://HOST:PORT --units N\n"
          "         [--protocol osmand|teltonika|mqtt] [--osmand-port 5055]\n"
          "         [--teltonika-port 5027] [--mqtt HOST:PORT (127.0.0.1:1883)]\n"
          "         [--interval-ms 2000] [--speedup 1] [--seconds S] [--user admin]\n"
          "         [--password-stdin] [--graph GRAPH] [--calls-per-hour 0..3600 (0)]\n"
          "         [--room-after S (60; 0: no simulated room)]\n"
          "       (without --password-stdin, the password comes from AMANE_SIM_PASSWORD)\n",
          stderr);
    return 2;
}

static uint64_t rnd(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static __attribute__((format(printf, 3, 4))) void sim_err(struct sim *s, const struct sim_unit *u,
                                                          const char *fmt, ...)
{
    COUNT(s, errors, 1);
    if (s->shown++ >= SIM_ERRORS_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "amane: simulate: %s%s", u ? u->callsign : "", u ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------- sockets and HTTP */

/* A non-blocking connection under way to `to`, or -1. */
static int sock_connect(const struct sockaddr_storage *to)
{
    int fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    socklen_t len =
        to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
        (connect(fd, (const struct sockaddr *)to, len) == 0 || errno == EINPROGRESS))
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static int lookup(const char *host, int port, struct sockaddr_storage *out)
{
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc)
        return cli_fail("cannot resolve '%s': %s", host, gai_strerror(rc));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* Parses http://HOST[:PORT][/]: the API's address; the device ports are on the same host. */
static int resolve(struct sim *s, const char *url, int osmand_port, int tlt_port)
{
    size_t n = strncmp(url, "http://", 7) ? 0 : strcspn(url + 7, "/");
    if (!n || n >= sizeof(s->hostport))
        return cli_fail("--server: want http://HOST:PORT (no TLS), not '%s'", url);
    snprintf(s->hostport, sizeof(s->hostport), "%.*s", (int)n, url + 7);
    char host[sizeof(s->hostport)], *colon = strrchr(s->hostport, ':');
    int64_t port = 80;
    if (colon && am_parse_i64(colon + 1, 1, 65535, &port))
        return cli_fail("--server: bad port in '%s'", url);
    snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - s->hostport) : (int)n, s->hostport);
    int rc = lookup(host, (int)port, &s->api);
    rc = rc ? rc : lookup(host, osmand_port, &s->osmand);
    return rc ? rc : lookup(host, tlt_port, &s->tlt);
}

static void xfer_free(struct xfer *x)
{
    if (x->fd >= 0)
        close(x->fd);
    am_buf_release(&x->buf);
    json_decref(x->json);
    free(x);
}

/* A request under way; NULL (and an error counted) if no connection could be opened. */
static struct xfer *xfer_new(struct sim *s, enum xfer_kind kind, struct sim_unit *u,
                             const char *method, const char *path, json_t *body, const char *idem)
{
    struct xfer *x = calloc(1, sizeof(*x));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = !x || (body && !text) ? AM_ENOMEM : 0;
    if (x) {
        *x = (struct xfer){.kind = kind, .unit = u, .start_us = am_mono_us()};
        x->deadline_us = x->start_us + SIM_WAIT_US;
        am_buf_init(&x->buf, SIM_ANSWER_MAX);
        x->fd = sock_connect(kind == XF_OSMAND ? &s->osmand : &s->api);
        rc = rc ? rc : x->fd < 0 ? AM_EIO : 0;
    }
    if (!rc)
        rc = am_buf_printf(&x->buf, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method,
                           path, s->hostport);
    if (!rc && kind != XF_OSMAND && s->token[0])
        rc = am_buf_printf(&x->buf, "Authorization: Bearer %s\r\n", s->token);
    if (!rc && idem)
        rc = am_buf_printf(&x->buf, "Idempotency-Key: %s\r\n", idem);
    if (!rc && text)
        rc = am_buf_printf(&x->buf, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                           strlen(text));
    if (!rc)
        rc = am_buf_printf(&x->buf, "\r\n%s", text ? text : "");
    free(text);
    if (rc) {
        sim_err(s, u, "cannot send %s %s: %s", method, path,
                rc == AM_EIO ? strerror(errno) : am_strerror(rc));
        if (x)
            xfer_free(x);
        return NULL;
    }
    return x;
}

/* Whether the answer is complete: its head and Content-Length bytes, or all until EOF. */
static bool xfer_complete(struct xfer *x, bool eof)
{
    const char *d = x->buf.data, *end = d ? strstr(d, "\r\n\r\n") : NULL;
    if (!end || x->buf.len < 12 || memcmp(d, "HTTP/1.", 7) || d[8] != ' ')
        return false;
    size_t head = (size_t)(end - d) + 4, blen = x->buf.len - head;
    long long clen = -1;
    for (const char *l = strstr(d, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            clen = strtoll(l + 17, NULL, 10);
    if ((clen >= 0 && blen < (size_t)clen) || (clen < 0 && !eof))
        return false;
    x->status = (int)strtol(d + 9, NULL, 10);
    blen = clen >= 0 ? (size_t)clen : blen;
    x->json = blen ? json_loadb(d + head, blen, 0, NULL) : NULL;
    return true;
}

/* Moves an exchange on: 1 when answered, 0 to wait for more, negative on failure. */
static int xfer_io(struct xfer *x)
{
    if (!x->reading) {
        ssize_t w = send(x->fd, x->buf.data + x->sent, x->buf.len - x->sent, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : AM_EIO;
        x->sent += (size_t)w;
        x->reading = x->sent == x->buf.len;
        x->buf.len = x->reading ? 0 : x->buf.len;
        return 0;
    }
    char tmp[16384];
    ssize_t r = recv(x->fd, tmp, sizeof(tmp), 0);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : AM_EIO;
    /* Kept NUL-terminated for the search of the head's end. */
    if (am_buf_append(&x->buf, tmp, (size_t)r) || am_buf_append(&x->buf, "", 1))
        return AM_ETOOBIG;
    x->buf.len--;
    return xfer_complete(x, r == 0) ? 1 : r == 0 ? AM_EIO : 0;
}

/* What went wrong with an exchange, for an error line. */
static const char *xfer_why(const struct xfer *x, int rc, char *buf, size_t bufsz)
{
    const char *detail = json_string_value(json_object_get(x->json, "detail"));
    if (rc == AM_EIO)
        snprintf(buf, bufsz, "no answer (connection refused, closed or timed out)");
    else if (rc < 0)
        snprintf(buf, bufsz, "%s", am_strerror(rc));
    else
        snprintf(buf, bufsz, "HTTP %d%s%s", x->status, detail ? ": " : "", detail ? detail : "");
    return buf;
}

/* Runs one exchange to its end before anything else (the setup): its HTTP status or < 0. */
static int api_sync(struct sim *s, const char *method, const char *path, json_t *body,
                    json_t **answer)
{
    struct xfer *x = xfer_new(s, XF_SYNC, NULL, method, path, body, NULL);
    int rc = x ? 0 : AM_EIO;
    while (!rc) {
        int64_t left = x->deadline_us - am_mono_us();
        struct pollfd p = {x->fd, x->reading ? POLLIN : POLLOUT, 0};
        if (left <= 0 || stop_signal || (poll(&p, 1, (int)(left / 1000) + 1) < 0 && errno != EINTR))
            rc = AM_EIO;
        else if (p.revents)
            rc = xfer_io(x);
    }
    char why[300];
    if (rc < 0 && x)
        cli_fail("%s %s: %s", method, path, xfer_why(x, rc, why, sizeof(why)));
    *answer = rc > 0 ? x->json : NULL;
    rc = rc > 0 ? x->status : rc;
    if (x) {
        x->json = NULL;
        xfer_free(x);
    }
    return rc;
}

/* Starts an exchange that the loop finishes (xfer_finish); NULL (an error counted) if it cannot. */
static struct xfer *xfer_start(struct sim *s, enum xfer_kind kind, struct sim_unit *u,
                               const char *method, const char *path, json_t *body, const char *arg,
                               const char *idem)
{
    if (s->nxf == s->maxxf) {
        sim_err(s, u, "too many requests wait for the server: %s %s dropped", method, path);
        return NULL;
    }
    struct xfer *x = xfer_new(s, kind, u, method, path, body, idem);
    if (x) {
        am_strlcpy(x->arg, arg ? arg : "", sizeof(x->arg));
        s->xf[s->nxf++] = x;
    }
    return x;
}

static void post_status(struct sim *s, struct sim_unit *u, const char *status)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/units/%s/status", u->callsign);
    json_t *body = json_pack("{ss}", "status", status);
    xfer_start(s, XF_STATUS, u, "POST", path, body, status, NULL);
    json_decref(body);
}

/* ---------------------------------------------------------------- driving */

/* Routes the unit from where it is to (lat, lon); its current route is kept on failure. */
static int unit_route(struct sim *s, struct sim_unit *u, double lat, double lon, bool emergency)
{
    struct geo_snap from, to;
    struct geo_route r;
    int rc = geo_roads_snap(s->g, u->lat, u->lon, s->snap_max_m, &from);
    rc = rc ? rc : geo_roads_snap(s->g, lat, lon, s->snap_max_m, &to);
    rc = rc ? rc : geo_roads_route(s->g, &from, &to, emergency ? &geo_speed_emergency : NULL, &r);
    if (rc)
        return rc;
    geo_route_release(&u->route);
    u->route = r;
    u->seg = 0;
    u->seg_off = 0;
    /* The route's average speed: its time over its length. */
    u->route_mps = r.eta_s > 0.5 ? fmin(fmax(r.length_m / r.eta_s, 2.0), 45.0) : 8.0;
    return 0;
}

/* A new destination: a random node, near the unit if one of a few tries is. */
static void patrol_route(struct sim *s, struct sim_unit *u)
{
    double lat = u->lat, lon = u->lon;
    for (int i = 0; i < 8; i++) {
        geo_roads_node(s->g, (uint32_t)(rnd(s) % s->info.nodes), &lat, &lon);
        if (geo_distance_m(u->lat, u->lon, lat, lon) < SIM_NEAR_M)
            break;
    }
    if (unit_route(s, u, lat, lon, false))
        sim_err(s, u, "no route from %.6f,%.6f to %.6f,%.6f", u->lat, u->lon, lat, lon);
}

static void back_to_patrol(struct sim *s, struct sim_unit *u, int64_t now)
{
    u->crew = CREW_PATROL;
    u->changed_us = now;
    patrol_route(s, u);
}

/* On scene for 30 to 120 s; `tell` the server, unless it is what it says already. */
static void arrive_on_scene(struct sim *s, struct sim_unit *u, int64_t now, bool tell)
{
    u->crew = CREW_ON_SCENE;
    u->changed_us = now;
    u->until_us = now + (int64_t)((double)(30 + rnd(s) % 91) * 1e6 / s->speedup);
    if (tell)
        post_status(s, u, "on_scene");
}

/* Drives `dist` metres along the route; at its end, on scene or a new destination. */
static void advance(struct sim *s, struct sim_unit *u, double dist, int64_t now)
{
    const double *p = u->route.points;
    for (; u->route.npoints > 1 && u->seg + 1 < u->route.npoints; u->seg++, u->seg_off = 0) {
        const double *a = p + 2 * u->seg, *b = a + 2;
        double len = geo_distance_m(a[0], a[1], b[0], b[1]);
        if (u->seg_off + dist < len) {
            u->seg_off += dist;
            u->lat = a[0] + (b[0] - a[0]) * u->seg_off / len;
            u->lon = a[1] + (b[1] - a[1]) * u->seg_off / len;
            double p1 = a[0] * M_PI / 180, p2 = b[0] * M_PI / 180, dl = (b[1] - a[1]) * M_PI / 180;
            double br = atan2(sin(dl) * cos(p2), cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl));
            u->bearing = fmod(br * 180 / M_PI + 360, 360);
            u->speed_mps = u->route_mps;
            return;
        }
        dist -= len - u->seg_off;
    }
    if (u->route.npoints) {
        u->lat = p[2 * u->route.npoints - 2];
        u->lon = p[2 * u->route.npoints - 1];
    }
    if (u->crew == CREW_RESPONDING && u->has_target)
        arrive_on_scene(s, u, now, true);
    else
        patrol_route(s, u);
}

/* Forgets the k oldest positions: acknowledged, or refused for good. */
static void dequeue(struct sim *s, struct sim_unit *u, size_t k, bool acked)
{
    k = k < u->qlen ? k : u->qlen;
    u->qhead = (u->qhead + k) % SIM_QUEUE;
    u->qlen -= k;
    if (acked)
        COUNT(s, acked, k);
}

/* The unit's next moment: the crew's timers, the drive, a position to report. */
static void unit_tick(struct sim *s, struct sim_unit *u, int64_t now)
{
    double dt = (double)(now - u->last_us) / 1e6 * s->speedup;
    enum crew was = u->crew;
    u->last_us = now;
    u->speed_mps = 0;
    if (u->crew == CREW_ON_SCENE && now >= u->until_us) {
        post_status(s, u, "available");
        back_to_patrol(s, u, now);
    } else if (u->crew == CREW_RESPONDING && !u->has_target && now >= u->until_us) {
        arrive_on_scene(s, u, now, true);
    } else if (u->crew != CREW_ON_SCENE) {
        advance(s, u, (u->route_mps > 0 ? u->route_mps : 8.0) * dt, now);
    }
    if (u->qlen == SIM_QUEUE) {
        sim_err(s, u, "%d positions wait for an acknowledgement: this one is dropped", SIM_QUEUE);
        return;
    }
    /*
     * Siren and light bar on the way to a call, the light bar still on at the scene: as they
     * were over the interval, so the fix of the arrival still has the siren on.
     */
    u->queue[(u->qhead + u->qlen++) % SIM_QUEUE] = (struct sim_fix){
        .ms = am_now_us() / 1000,
        .lat = u->lat,
        .lon = u->lon,
        .speed_mps = u->speed_mps,
        .bearing = u->bearing,
        .siren = was == CREW_RESPONDING || u->crew == CREW_RESPONDING,
        .lightbar = was != CREW_PATROL || u->crew != CREW_PATROL,
    };
}

/* ---------------------------------------------------------------- devices */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void tlt_close(struct sim_unit *u, int64_t retry_us)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->tlt = TLT_CLOSED;
    u->inflight = u->outlen = u->outsent = u->inlen = 0;
    u->retry_us = retry_us;
}

/* A Codec 8 packet of all the unit's queued positions, with ignition on (IO 239). */
static void tlt_packet(struct sim_unit *u)
{
    static const uint8_t io[] = {0, 1, 1, 239, 1, 0, 0, 0}; /* event, counts, one 1-byte IO */
    uint8_t *d = u->out + 8;
    size_t n = u->qlen, len = 2;
    d[0] = 0x08;
    d[1] = (uint8_t)n;
    for (size_t i = 0; i < n; i++, len += 24 + sizeof(io)) {
        const struct sim_fix *f = &u->queue[(u->qhead + i) % SIM_QUEUE];
        put_be(d + len, (uint64_t)f->ms, 8);
        d[len + 8] = 0; /* priority */
        put_be(d + len + 9, (uint32_t)(int32_t)lround(f->lon * 1e7), 4);
        put_be(d + len + 13, (uint32_t)(int32_t)lround(f->lat * 1e7), 4);
        put_be(d + len + 17, 50, 2); /* altitude */
        put_be(d + len + 19, (uint64_t)lround(f->bearing) % 360, 2);
        d[len + 21] = 9; /* satellites */
        put_be(d + len + 22, (uint64_t)lround(f->speed_mps * 3.6), 2);
        memcpy(d + len + 24, io, sizeof(io));
    }
    d[len++] = (uint8_t)n;
    put_be(u->out, 0, 4);
    put_be(u->out + 4, len, 4);
    put_be(d + len, avl_crc16_ibm(d, len), 4);
    u->outlen = 8 + len + 4;
    u->outsent = 0;
    u->inflight = n;
}

/*
 * MQTT: the callbacks run inside mosquitto_loop_read/write/misc, called by
 * the loop (mqtt_io, units_step); libmosquitto keeps each QoS 1 message
 * until the broker's PUBACK and sends it again after a reconnection.
 */
static void mqtt_on_connect(struct mosquitto *mq, void *obj, int rc)
{
    struct sim_unit *u = obj;
    char topic[128];
    if (rc) {
        sim_err(u->sim, u, "MQTT connection refused: %s", mosquitto_connack_string(rc));
        return;
    }
    u->mq_up = true;
    snprintf(topic, sizeof(topic), SIM_MQTT_TOPIC "%s/commands", u->device);
    rc = mosquitto_subscribe(mq, NULL, topic, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        sim_err(u->sim, u, "cannot subscribe to %s: %s", topic, mosquitto_strerror(rc));
}

static void mqtt_on_disconnect(struct mosquitto *mq, void *obj, int rc)
{
    struct sim_unit *u = obj;
    (void)mq;
    if (rc != 0) /* not our own mosquitto_disconnect: lost, refused, or never made */
        sim_err(u->sim, u, "MQTT link %s", u->mq_up ? "lost" : "not established");
    u->mq_up = false;
    u->retry_us = am_mono_us() + SIM_RETRY_US;
}

static void mqtt_on_publish(struct mosquitto *mq, void *obj, int mid)
{
    struct sim_unit *u = obj;
    (void)mq;
    (void)mid; /* positions are counted, not told apart: each is its own message */
    if (u->inflight) {
        u->inflight--;
        COUNT(u->sim, acked, 1);
    }
}

/* A command from amaned. An assignment only says "look now": the unit statuses say what to do. */
static void mqtt_on_message(struct mosquitto *mq, void *obj, const struct mosquitto_message *m)
{
    struct sim_unit *u = obj;
    (void)mq;
    json_t *cmd = m->payloadlen > 0 ? json_loadb(m->payload, (size_t)m->payloadlen, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(cmd, "type"));
    json_int_t id = json_integer_value(json_object_get(cmd, "id"));
    if (type && !strcmp(type, "assignment")) {
        COUNT(u->sim, commands, 1);
        u->sim->poll_soon = true;
    } else if (type && !strcmp(type, "ping") && id > 0) {
        /* The crew answers a ping at once: the room sees it acknowledged. */
        char path[64], arg[24];
        snprintf(path, sizeof(path), "/api/v1/messages/%lld/ack", (long long)id);
        snprintf(arg, sizeof(arg), "%lld", (long long)id);
        json_t *body = json_object();
        xfer_start(u->sim, XF_ACK, u, "POST", path, body, arg, NULL);
        json_decref(body);
    } else if (!type) {
        sim_err(u->sim, u, "MQTT command that is not a JSON object with a type, on %s", m->topic);
    }
    json_decref(cmd);
}

/* One client per car, its id the device id; a persistent session, as a vehicle kit keeps. */
static int mqtt_setup(struct sim *s)
{
    mosquitto_lib_init();
    s->mqtt_lib = true;
    for (size_t i = 0; i < s->n; i++) {
        struct sim_unit *u = &s->u[i];
        u->mq = mosquitto_new(u->device, false, u);
        if (!u->mq)
            return cli_fail("cannot make the MQTT client of %s: %s", u->callsign, strerror(errno));
        mosquitto_connect_callback_set(u->mq, mqtt_on_connect);
        mosquitto_disconnect_callback_set(u->mq, mqtt_on_disconnect);
        mosquitto_publish_callback_set(u->mq, mqtt_on_publish);
        mosquitto_message_callback_set(u->mq, mqtt_on_message);
        mosquitto_int_option(u->mq, MOSQ_OPT_TCP_NODELAY, 1);
    }
    return 0;
}

/* Reads and writes what the unit's MQTT socket is ready for; failures come to on_disconnect. */
static void mqtt_io(struct sim_unit *u, short revents)
{
    int rc = MOSQ_ERR_SUCCESS;
    if (revents & (POLLIN | POLLERR | POLLHUP))
        rc = mosquitto_loop_read(u->mq, 1);
    if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) && mosquitto_socket(u->mq) >= 0)
        mosquitto_loop_write(u->mq, 1);
}

/* Connects the unit's client if it is down and due; publishes its positions if it is up. */
static void mqtt_flush(struct sim *s, struct sim_unit *u, int64_t now)
{
    if (now < u->retry_us) {
        return;
    } else if (!u->mq_up) {
        if (mosquitto_socket(u->mq) >= 0)
            return; /* under way; libmosquitto gives up after the keepalive */
        int rc = u->mq_started
                     ? mosquitto_reconnect_async(u->mq)
                     : mosquitto_connect_async(u->mq, s->mqtt_host, s->mqtt_port, SIM_MQTT_KEEP_S);
        u->mq_started = u->mq_started || rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_ERRNO;
        if (rc != MOSQ_ERR_SUCCESS) {
            sim_err(s, u, "cannot connect to the MQTT broker %s:%d: %s", s->mqtt_host, s->mqtt_port,
                    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
            u->retry_us = now + SIM_RETRY_US;
        }
        return;
    }
    char topic[128], payload[512], ts[AM_TIME_BUFSZ];
    snprintf(topic, sizeof(topic), SIM_MQTT_TOPIC "%s/telemetry", u->device);
    /* At most SIM_QUEUE in libmosquitto's hands, as many more in ours. */
    while (u->qlen && u->inflight < SIM_QUEUE) {
        const struct sim_fix *f = &u->queue[u->qhead];
        int len =
            snprintf(payload, sizeof(payload),
                     "{\"time\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"speed_kmh\":%.1f,"
                     "\"heading\":%.0f,\"ignition\":true,\"siren\":%s,\"lightbar\":%s}",
                     am_time_fmt(f->ms * 1000, ts, sizeof(ts)), f->lat, f->lon, f->speed_mps * 3.6,
                     f->bearing, f->siren ? "true" : "false", f->lightbar ? "true" : "false");
        int rc = mosquitto_publish(u->mq, NULL, topic, len, payload, 1, false);
        if (rc != MOSQ_ERR_SUCCESS) {
            sim_err(s, u, "MQTT publish: %s", mosquitto_strerror(rc));
            u->retry_us = now + SIM_RETRY_US;
            return;
        }
        dequeue(s, u, 1, false);
        u->inflight++;
        COUNT(s, sent, 1);
    }
}

/* Sends what the unit has to send, if its link is free. */
static void unit_flush(struct sim *s, struct sim_unit *u, int64_t now)
{
    if (s->protocol == SIM_MQTT) {
        mqtt_flush(s, u, now);
    } else if (!u->qlen || now < u->retry_us || u->osmand_busy) {
        return;
    } else if (s->protocol == SIM_OSMAND) {
        const struct sim_fix *f = &u->queue[u->qhead];
        char path[300];
        snprintf(path, sizeof(path),
                 "/?id=%s&lat=%.7f&lon=%.7f&timestamp=%lld&speed=%.2f&bearing=%.0f", u->device,
                 f->lat, f->lon, (long long)f->ms, f->speed_mps / 0.514444, f->bearing);
        size_t before = s->nxf;
        xfer_start(s, XF_OSMAND, u, "GET", path, NULL, NULL, NULL);
        u->osmand_busy = s->nxf > before;
        u->retry_us = u->osmand_busy ? 0 : now + SIM_RETRY_US;
        COUNT(s, sent, u->osmand_busy);
    } else if (u->tlt == TLT_CLOSED) {
        u->fd = sock_connect(&s->tlt);
        if (u->fd < 0) {
            sim_err(s, u, "cannot connect to the Teltonika port: %s", strerror(errno));
            u->retry_us = now + SIM_RETRY_US;
            return;
        }
        u->tlt = TLT_HELLO; /* the IMEI, and then one byte: 1 accepted, 0 refused */
        put_be(u->out, 15, 2);
        memcpy(u->out + 2, u->device, 15);
        u->outlen = 17;
        u->deadline_us = now + SIM_WAIT_US;
    } else if (u->tlt == TLT_IDLE) {
        tlt_packet(u); /* and then 4 bytes: the count of records accepted */
        u->tlt = TLT_ACK;
        u->deadline_us = now + SIM_WAIT_US;
        COUNT(s, sent, u->inflight);
    }
}

/* The Teltonika session moves on: the handshake out, its answer in, packets out, acks in. */
static void tlt_io(struct sim *s, struct sim_unit *u, int64_t now)
{
    if (u->outsent < u->outlen) {
        ssize_t w = send(u->fd, u->out + u->outsent, u->outlen - u->outsent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            sim_err(s, u, "Teltonika link: %s", strerror(errno));
            tlt_close(u, now + SIM_RETRY_US);
        }
        u->outsent += w > 0 ? (size_t)w : 0;
        return;
    }
    size_t want = u->tlt == TLT_HELLO ? 1 : 4;
    ssize_t r = recv(u->fd, u->in + u->inlen, want - u->inlen, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0 || u->tlt == TLT_IDLE) {
        /* A session the server closed while idle is opened again when there is news. */
        if (u->tlt != TLT_IDLE || r != 0)
            sim_err(s, u, "Teltonika link closed by the server");
        tlt_close(u, u->tlt == TLT_IDLE ? 0 : now + SIM_RETRY_US);
        return;
    }
    if ((u->inlen += (size_t)r) < want)
        return;
    u->inlen = 0;
    size_t acked =
        (size_t)u->in[0] << 24 | (size_t)u->in[1] << 16 | (size_t)u->in[2] << 8 | u->in[3];
    if (u->tlt == TLT_HELLO && u->in[0] != 1) {
        sim_err(s, u, "IMEI %s refused at the handshake", u->device);
        tlt_close(u, now + 5 * SIM_RETRY_US);
    } else if (u->tlt == TLT_ACK && acked != u->inflight) {
        sim_err(s, u, "%zu records acknowledged of %zu sent", acked, u->inflight);
        tlt_close(u, now + SIM_RETRY_US);
    } else {
        if (u->tlt == TLT_ACK)
            dequeue(s, u, acked, true);
        u->inflight = 0;
        u->tlt = TLT_IDLE;
    }
}

/* ---------------------------------------------------------------- the crews */

static struct sim_unit *find_unit(struct sim *s, const char *callsign)
{
    for (size_t i = 0; callsign && i < s->n; i++)
        if (strcmp(s->u[i].callsign, callsign) == 0)
            return &s->u[i];
    return NULL;
}

static void respond(struct sim *s, struct sim_unit *u, const char *incident, bool acknowledge,
                    int64_t now)
{
    u->crew = CREW_RESPONDING;
    am_strlcpy(u->incident, incident, sizeof(u->incident));
    u->has_target = false;
    /* Until the location is known the car drives on; without one, it is there in 60 s. */
    u->until_us = now + (int64_t)(60e6 / s->speedup);
    u->changed_us = now;
    if (acknowledge)
        post_status(s, u, "en_route");
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/incidents/%s", incident);
    xfer_start(s, XF_INCIDENT, u, "GET", path, NULL, incident, NULL);
}

/* The units' statuses as the server has them: a dispatch to answer, a release to notice. */
static void on_poll(struct sim *s, struct xfer *x, int64_t now)
{
    size_t i;
    json_t *it, *items = json_object_get(x->json, "items");
    json_array_foreach(items, i, it)
    {
        struct sim_unit *u = find_unit(s, json_string_value(json_object_get(it, "callsign")));
        if (!u || x->start_us < u->changed_us)
            continue;
        const char *st = json_string_value(json_object_get(it, "status"));
        const char *inc = json_string_value(json_object_get(it, "incident"));
        bool called = st && inc && (!strcmp(st, "dispatched") || !strcmp(st, "en_route"));
        bool mine = u->crew != CREW_PATROL && inc && strcmp(inc, u->incident) == 0;
        if (called && !mine) {
            respond(s, u, inc, strcmp(st, "dispatched") == 0, now);
        } else if (st && inc && !strcmp(st, "on_scene") && !mine) {
            am_strlcpy(u->incident, inc, sizeof(u->incident)); /* e.g. left so by a last run */
            arrive_on_scene(s, u, now, false);
        } else if (u->crew != CREW_PATROL && !mine) {
            back_to_patrol(s, u, now); /* released, closed, or sent elsewhere by the room */
        }
    }
}

static void on_incident(struct sim *s, struct xfer *x)
{
    struct sim_unit *u = x->unit;
    if (u->crew != CREW_RESPONDING || strcmp(u->incident, x->arg))
        return;
    json_t *loc = json_object_get(x->json, "location");
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    if (json_is_number(lat) && json_is_number(lon) &&
        unit_route(s, u, json_number_value(lat), json_number_value(lon), true) == 0)
        u->has_target = true;
    else
        sim_err(s, u, "cannot drive to %s: no location near a road", x->arg);
}

static void on_status(struct sim *s, struct xfer *x, bool ok, const char *why, int64_t now)
{
    struct sim_unit *u = x->unit;
    bool available = !strcmp(x->arg, "available");
    u->changed_us = now; /* a status read before the server had this one is out of date */
    if (ok) {
        if (available)
            COUNT(s, cleared, 1);
        else if (!strcmp(x->arg, "en_route"))
            COUNT(s, answered, 1);
        else
            COUNT(s, on_scene, 1);
        return;
    }
    /* Released or closed by the room meanwhile: not an error, the crew goes back on patrol. */
    if (x->status == 409 && !available && u->crew != CREW_PATROL) {
        back_to_patrol(s, u, now);
        return;
    }
    sim_err(s, u, "status %s: %s", x->arg, why);
    if (available && u->crew == CREW_PATROL) {
        u->crew = CREW_ON_SCENE; /* clears again in a while */
        u->until_us = now + 5 * SIM_RETRY_US;
    } else if (!available && u->crew != CREW_PATROL) {
        back_to_patrol(s, u, now); /* the next poll says whether the call still stands */
    }
}

/* ---------------------------------------------------------------- the calls and the room */

/* What the city calls about, about as often as a city does (weights out of 100). */
static const struct {
    const char *type;
    unsigned weight;
    const char *fr, *ar; /* what the caller says */
} call_kinds[] = {
    {"THEFT", 20, "Vol à l'arraché d'un téléphone, l'auteur s'est enfui à pied.",
     "سرقة هاتف بالخطف، الفاعل فر راجلا."},
    {"DISTURBANCE", 15, "Bagarre et musique très forte dans la rue depuis une heure.",
     "شجار وموسيقى صاخبة في الشارع منذ ساعة."},
    {"TRAFFIC_NOINJURY", 15,
     "Accrochage entre deux voitures, pas de blessés, la circulation bloquée.",
     "اصطدام بين سيارتين دون إصابات، حركة السير متوقفة."},
    {"SUSPICIOUS_PERSON", 10, "Un individu regarde dans les voitures garées depuis vingt minutes.",
     "شخص يتفقد السيارات المركونة منذ عشرين دقيقة."},
    {"ASSAULT", 10, "Un homme agressé devant un café, il saigne au visage.",
     "رجل تعرض لاعتداء أمام مقهى وينزف من وجهه."},
    {"ALARM", 8, "L'alarme d'une agence bancaire sonne, personne sur place.",
     "إنذار وكالة بنكية يرن ولا أحد في المكان."},
    {"TRAFFIC_INJURY", 6, "Un scooter renversé par une voiture, le conducteur est au sol.",
     "سيارة صدمت دراجة نارية والسائق ملقى على الأرض."},
    {"DOMESTIC", 6, "Cris et bruits de coups chez les voisins du deuxième étage.",
     "صراخ وأصوات ضرب عند الجيران في الطابق الثاني."},
    {"BURGLARY", 5, "Porte de l'appartement forcée au retour de la famille, bijoux disparus.",
     "باب الشقة مكسور عند عودة الأسرة والحلي مفقودة."},
    {"VANDALISM", 5, "Des jeunes cassent les vitres d'un abribus.",
     "شبان يكسرون زجاج محطة الحافلات."},
};

/* Callers, each in Latin and in Arabic script: a call is taken in either. */
static const char *const callers[][2] = {
    {"Youssef El Amrani", "يوسف العمراني"}, {"Fatima Zahra Benali", "فاطمة الزهراء بنعلي"},
    {"Mohamed Tazi", "محمد التازي"},        {"Khadija Berrada", "خديجة برادة"},
    {"Hicham Alaoui", "هشام العلوي"},       {"Nadia Chraibi", "نادية الشرايبي"},
    {"Abdellah Bennani", "عبد الله بناني"}, {"Salma Idrissi", "سلمى الإدريسي"},
    {"Rachid El Fassi", "رشيد الفاسي"},     {"Meryem Lahlou", "مريم لحلو"},
    {"Omar Benjelloun", "عمر بنجلون"},      {"Samira Ouazzani", "سميرة الوزاني"},
};

/* The time to the next call: exponential, so that the calls are a Poisson process. */
static int64_t call_gap_us(struct sim *s)
{
    double u = (double)(rnd(s) >> 11) / 9007199254740992.0; /* [0, 1) */
    return 1 + (int64_t)(-log1p(-u) * 3600e6 / ((double)s->calls_per_hour * s->speedup));
}

/*
 * Where the call is from: three calls in four, if the graph names its
 * streets, on a random street (a random point of the road through its
 * middle), with its name as the address; else a random point of a random
 * road, without an address (the caller's phone gives the position).
 */
static void call_place(struct sim *s, double *lat, double *lon, char *addr, size_t addrsz)
{
    const struct geo_streets *idx = geo_roads_streets(s->g);
    size_t nstreets = idx ? geo_streets_count(idx) : 0;
    struct geo_street st;
    struct geo_snap sn;
    double frac = (double)(rnd(s) % 1001) / 1000.0;
    addr[0] = '\0';
    if (nstreets && rnd(s) % 4 && geo_streets_get(idx, rnd(s) % nstreets, &st) &&
        geo_roads_snap(s->g, st.lat, st.lon, 25, &sn) == 0 &&
        geo_roads_snap_at(s->g, sn.edge, frac, 0, &sn) == 0) {
        const char *name = st.name[0] ? st.name : st.name_fr[0] ? st.name_fr : st.name_ar;
        if (strlen(name) < addrsz)
            am_strlcpy(addr, name, addrsz);
    } else if (!s->info.edges ||
               geo_roads_snap_at(s->g, (uint32_t)(rnd(s) % s->info.edges), frac, 0, &sn)) {
        geo_roads_node(s->g, (uint32_t)(rnd(s) % s->info.nodes), &sn.lat, &sn.lon);
    }
    *lat = sn.lat;
    *lon = sn.lon;
}

/* A call comes in: its request is made, to be sent by room_step(). */
static void call_new(struct sim *s, int64_t now)
{
    if (s->ncalls == SIM_MAX_CALLS) {
        sim_err(s, NULL, "%d calls of its own are open or wait for the server: one not placed",
                SIM_MAX_CALLS);
        return;
    }
    unsigned total = 0, pick;
    size_t k = 0;
    for (size_t i = 0; i < sizeof(call_kinds) / sizeof(call_kinds[0]); i++)
        total += call_kinds[i].weight;
    for (pick = (unsigned)(rnd(s) % total); pick >= call_kinds[k].weight; k++)
        pick -= call_kinds[k].weight;
    bool arabic = rnd(s) % 2;
    const char *caller = callers[rnd(s) % (sizeof(callers) / sizeof(callers[0]))][rnd(s) % 2];
    char phone[24], addr[257], ts[AM_TIME_BUFSZ];
    uint64_t digits = rnd(s) % 100000000;
    snprintf(phone, sizeof(phone), "0%c %02u %02u %02u %02u", rnd(s) % 2 ? '6' : '7',
             (unsigned)(digits / 1000000), (unsigned)(digits / 10000 % 100),
             (unsigned)(digits / 100 % 100), (unsigned)(digits % 100));
    double lat, lon;
    call_place(s, &lat, &lon, addr, sizeof(addr));
    struct sim_call *c = calloc(1, sizeof(*c));
    json_t *body = json_pack("{ss s{ss ss} s{sf sf} ss ss}", "type", call_kinds[k].type, "caller",
                             "name", caller, "phone", phone, "location", "lat", lat, "lon", lon,
                             "narrative", arabic ? call_kinds[k].ar : call_kinds[k].fr, "call_time",
                             am_time_fmt(am_now_us(), ts, sizeof(ts)));
    if (body && addr[0] &&
        json_object_set_new(json_object_get(body, "location"), "address", json_string(addr))) {
        json_decref(body);
        body = NULL;
    }
    if (!c || !body) {
        sim_err(s, NULL, "a call: out of memory");
        free(c);
        json_decref(body);
        return;
    }
    snprintf(c->key, sizeof(c->key), "sim-%s-%llu", s->run_id, ++s->call_seq);
    c->body = body;
    c->next_us = now;
    s->calls[s->ncalls++] = c;
}

/* Sends a request about call c; false if it could not be (an error counted, tried later). */
static bool call_request(struct sim *s, struct sim_call *c, enum xfer_kind kind, const char *method,
                         const char *path, json_t *body, int64_t now)
{
    char key[96];
    if (kind == XF_CALL_OPEN)
        am_strlcpy(key, c->key, sizeof(key));
    else
        snprintf(key, sizeof(key), "%s-%u", c->key, ++c->steps);
    struct xfer *x = xfer_start(s, kind, NULL, method, path, body, c->number,
                                strcmp(method, "POST") ? NULL : key);
    if (!x) {
        c->next_us = now + SIM_RETRY_US;
        return false;
    }
    x->call = c;
    c->busy = true;
    s->room_busy++;
    return true;
}

/* The calls' next steps: new arrivals, openings to send, the room's looks. Returns the wake. */
static int64_t room_step(struct sim *s, int64_t now, int64_t wake)
{
    if (!s->calls_per_hour)
        return wake;
    if (s->next_call_us < now - 10 * 1000000LL)
        s->next_call_us = now; /* after a stall (a suspended machine), no flood of old calls */
    for (; s->next_call_us <= now; s->next_call_us += call_gap_us(s))
        call_new(s, now);
    wake = s->next_call_us < wake ? s->next_call_us : wake;
    size_t keep = 0;
    for (size_t i = 0; i < s->ncalls; i++) {
        struct sim_call *c = s->calls[i];
        if (c->gone && !c->busy) {
            json_decref(c->body);
            free(c);
            continue;
        }
        s->calls[keep++] = c;
        if (c->busy || c->gone || s->room_busy >= SIM_ROOM_BUSY)
            continue; /* the loop wakes when a request is answered */
        if (c->next_us > now) {
            wake = c->next_us < wake ? c->next_us : wake;
        } else if (c->body) {
            call_request(s, c, XF_CALL_OPEN, "POST", "/api/v1/incidents", c->body, now);
        } else {
            char path[96];
            snprintf(path, sizeof(path), "/api/v1/incidents/%s", c->number);
            call_request(s, c, XF_CALL_LOOK, "GET", path, NULL, now);
        }
    }
    s->ncalls = keep;
    return wake;
}

/* Whether every unit that was on the incident has been released or is available again. */
static bool all_cleared(json_t *units)
{
    size_t i;
    json_t *it;
    json_array_foreach(units, i, it)
    {
        const char *st = json_string_value(json_object_get(it, "status"));
        if (!json_is_string(json_object_get(it, "released")) && !(st && !strcmp(st, "available")))
            return false;
    }
    return json_array_size(units) > 0;
}

/* The room looks at its call: dispatch it if it still waits, close it once it is over. */
static void room_look(struct sim *s, struct sim_call *c, json_t *inc, int64_t now)
{
    const char *status = json_string_value(json_object_get(inc, "status"));
    json_t *units = json_object_get(inc, "units");
    json_t *on_scene = json_object_get(json_object_get(inc, "times"), "on_scene");
    char path[128];
    if (!status || !json_is_array(units)) {
        sim_err(s, NULL, "call %s: an incident without status or units", c->number);
    } else if (!strcmp(status, "closed")) {
        c->gone = true; /* by a human, or merged into another */
    } else if (!c->dispatch_done && !strcmp(status, "new") && !json_array_size(units)) {
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/recommendations?k=%d", c->number,
                 SIM_REC_K);
        call_request(s, c, XF_CALL_RECOMMEND, "GET", path, NULL, now);
    } else {
        c->dispatch_done = true; /* by the room, or by a human who was first */
        if (!json_is_string(on_scene) || !all_cleared(units))
            return;
        /* Been on scene, and all its units have cleared: it is over. */
        json_t *body = json_pack("{ss}", "disposition", "resolved");
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/close", c->number);
        if (body)
            call_request(s, c, XF_CALL_CLOSE, "POST", path, body, now);
        json_decref(body);
    }
}

/* The room dispatches the first simulated crew among the recommended units; none: later. */
static void room_dispatch(struct sim *s, struct sim_call *c, json_t *rec, int64_t now)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(rec, "units"), i, it)
    {
        struct sim_unit *u = find_unit(s, json_string_value(json_object_get(it, "callsign")));
        if (!u || u->crew != CREW_PATROL)
            continue; /* a unit no simulated crew drives would never answer */
        char path[96];
        snprintf(path, sizeof(path), "/api/v1/incidents/%s/assign", c->number);
        json_t *body = json_pack("{ss}", "unit", u->callsign);
        if (body)
            call_request(s, c, XF_CALL_ASSIGN, "POST", path, body, now);
        json_decref(body);
        return;
    }
}

/* An answer about a call. 409 means a human acted first: the next look sees how things stand. */
static void call_finish(struct sim *s, struct xfer *x, int rc, int64_t now)
{
    struct sim_call *c = x->call;
    int st = rc > 0 ? x->status : 0;
    bool ok = st >= 200 && st < 300;
    char why[300] = "";
    if (!ok)
        xfer_why(x, rc, why, sizeof(why));
    c->busy = false;
    s->room_busy--;
    c->next_us = now + SIM_POLL_US;
    if (x->kind == XF_CALL_OPEN) {
        const char *number = json_string_value(json_object_get(x->json, "number"));
        bool lasting = st >= 400 && st < 500 && st != 401 && st != 408 && st != 429;
        if (ok && number && strlen(number) < sizeof(c->number)) {
            am_strlcpy(c->number, number, sizeof(c->number));
            json_decref(c->body);
            c->body = NULL;
            c->next_us = now + s->room_after_us;
            c->gone = !s->room_after_us;
            COUNT(s, calls, 1);
        } else {
            /* Sent again with its key, unless refused for good: it is opened at most once. */
            c->gone = lasting || ++c->tries >= SIM_CALL_TRIES;
            c->next_us = now + SIM_RETRY_US;
            sim_err(s, NULL, "call %s%s: %s", c->key, c->gone ? " given up" : "",
                    ok ? "an answer without an incident number" : why);
        }
        return;
    }
    if (x->kind == XF_CALL_ASSIGN && ok) {
        COUNT(s, room_dispatched, 1);
        c->dispatch_done = true;
        s->poll_soon = true; /* the crew hears of it at once */
    } else if (x->kind == XF_CALL_CLOSE && (ok || st == 409)) {
        COUNT(s, closed, ok);
        c->gone = true; /* closed, by the room or before it by a human */
    } else if (x->kind == XF_CALL_LOOK && st == 404) {
        sim_err(s, NULL, "call %s: %s", c->number, why);
        c->gone = true;
    } else if (!ok && st != 409) {
        sim_err(s, NULL, "call %s: %s", c->number, why);
    } else if (ok && !s->draining && x->kind == XF_CALL_LOOK) {
        room_look(s, c, x->json, now);
    } else if (ok && !s->draining && x->kind == XF_CALL_RECOMMEND) {
        room_dispatch(s, c, x->json, now);
    }
}

static void xfer_finish(struct sim *s, struct xfer *x, int rc, int64_t now)
{
    char why[300] = "";
    bool ok = rc > 0 && x->status >= 200 && x->status < 300;
    if (!ok)
        xfer_why(x, rc, why, sizeof(why));
    s->relogin = s->relogin || (rc > 0 && x->status == 401);
    if (x->kind >= XF_CALL_OPEN) {
        call_finish(s, x, rc, now);
    } else if (x->kind == XF_OSMAND) {
        x->unit->osmand_busy = false;
        /* A position refused (4xx) is not sent again; one not answered is. */
        if (ok || (x->status >= 400 && x->status < 500 && x->status != 429))
            dequeue(s, x->unit, 1, ok);
        else
            x->unit->retry_us = now + SIM_RETRY_US;
        if (!ok)
            sim_err(s, x->unit, "OsmAnd report: %s", why);
    } else if (x->kind == XF_STATUS) {
        on_status(s, x, ok, why, now);
    } else if (x->kind == XF_ACK) {
        if (ok)
            COUNT(s, pings, 1);
        else
            sim_err(s, x->unit, "answer to ping %s: %s", x->arg, why);
    } else if (!ok && x->kind == XF_POLL) {
        sim_err(s, NULL, "unit statuses: %s", why);
    } else if (!ok) {
        sim_err(s, x->unit, "incident %s: %s", x->arg, why);
    } else if (x->kind == XF_POLL) {
        on_poll(s, x, now);
    } else {
        on_incident(s, x);
    }
}

/* ---------------------------------------------------------------- setup */

static int failed(int st, const char *what, const char *name)
{
    return st < 0 ? 1 : cli_fail("cannot %s%s: HTTP %d", what, name, st);
}

static int login(struct sim *s)
{
    json_t *req = json_pack("{ss ss}", "username", s->user, "password", s->password), *ans;
    s->token[0] = '\0';
    int st = api_sync(s, "POST", "/api/v1/auth/login", req, &ans);
    const char *tok = json_string_value(json_object_get(ans, "token"));
    if (st == 200 && tok && strlen(tok) < sizeof(s->token))
        am_strlcpy(s->token, tok, sizeof(s->token));
    json_decref(req);
    json_decref(ans);
    return s->token[0] ? 0 : failed(st, "log in as ", s->user);
}

static void add_unit(struct sim *s, const char *callsign, json_t *pos)
{
    struct sim_unit *u = &s->u[s->n++];
    am_strlcpy(u->callsign, callsign, sizeof(u->callsign));
    u->sim = s;
    u->fd = -1;
    /* Start where the server last saw the unit, if that is near a road; else anywhere. */
    json_t *lat = json_object_get(pos, "lat"), *lon = json_object_get(pos, "lon");
    struct geo_snap sn;
    if (json_is_number(lat) && json_is_number(lon) &&
        !geo_roads_snap(s->g, json_number_value(lat), json_number_value(lon), 2000, &sn)) {
        u->lat = sn.lat;
        u->lon = sn.lon;
    } else {
        geo_roads_node(s->g, (uint32_t)(rnd(s) % s->info.nodes), &u->lat, &u->lon);
    }
}

/* The first `want` units of the server, and SIM-001... made for the missing ones. */
static int take_units(struct sim *s, size_t want)
{
    json_t *ans = NULL, *it, *made;
    size_t i;
    int st = api_sync(s, "GET", "/api/v1/units", NULL, &ans);
    json_t *items = json_object_get(ans, "items");
    json_array_foreach(items, i, it)
    {
        const char *cs = json_string_value(json_object_get(it, "callsign"));
        if (s->n < want && cs && strlen(cs) < sizeof(s->u[0].callsign))
            add_unit(s, cs, json_object_get(it, "position"));
    }
    json_decref(ans);
    if (st != 200)
        return failed(st, "list the units", "");
    for (int k = 1; s->n < want && k < 1000; k++) {
        char cs[32];
        snprintf(cs, sizeof(cs), "SIM-%03d", k);
        if (find_unit(s, cs))
            continue;
        json_t *req = json_pack("{ss ss}", "callsign", cs, "kind", "car_patrol");
        st = api_sync(s, "POST", "/api/v1/units", req, &made);
        json_decref(req);
        json_decref(made);
        if (st != 201)
            return failed(st, "add unit ", cs);
        add_unit(s, cs, NULL);
    }
    return 0;
}

/* Binds a device to each unit, unless it already is bound so. */
static int bind_devices(struct sim *s)
{
    const char *proto = sim_protocols[s->protocol];
    json_t *ans = NULL, *it, *made;
    size_t i, bound = 0;
    int st = api_sync(s, "GET", "/api/v1/devices", NULL, &ans);
    json_t *items = json_object_get(ans, "items");
    for (size_t k = 0; st == 200 && k < s->n; k++) {
        struct sim_unit *u = &s->u[k];
        snprintf(u->device, sizeof(u->device), "sim-%s", u->callsign);
        /* Over Teltonika, a 15-digit IMEI: a made-up TAC, the index, the Luhn digit. */
        if (s->protocol == SIM_TELTONIKA) {
            snprintf(u->device, sizeof(u->device), "35000099%06zu", k + 1);
            int sum = 0;
            for (int d = 0; d < 14; d++) {
                int v = (u->device[d] - '0') * (d % 2 + 1);
                sum += v > 9 ? v - 9 : v;
            }
            u->device[14] = (char)('0' + (10 - sum % 10) % 10);
        }
        bool have = false;
        json_array_foreach(items, i, it)
        {
            const char *d = json_string_value(json_object_get(it, "device"));
            const char *p = json_string_value(json_object_get(it, "protocol"));
            const char *un = json_string_value(json_object_get(it, "unit"));
            have = have || (d && p && un && !strcmp(d, u->device) && !strcmp(p, proto) &&
                            !strcmp(un, u->callsign));
        }
        if (have)
            continue;
        json_t *req =
            json_pack("{ss ss ss}", "device", u->device, "protocol", proto, "unit", u->callsign);
        st = api_sync(s, "POST", "/api/v1/devices", req, &made);
        json_decref(req);
        json_decref(made);
        bound += st == 201;
        st = st == 201 ? 200 : st; /* else the loop stops */
    }
    json_decref(ans);
    if (st != 200)
        return failed(st, "bind the devices", "");
    printf("units:");
    for (size_t k = 0; k < s->n; k++)
        printf(" %s=%s", s->u[k].callsign, s->u[k].device);
    printf("\ndevices bound: %zu new, %zu already\n", bound, s->n - bound);
    return 0;
}

/* ---------------------------------------------------------------- the loop */

static void report(struct sim *s, const struct sim_count *c, const char *what)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf("%s %s: %zu units, %llu positions sent, %llu acknowledged, %llu dispatches answered, "
           "%llu on scene, %llu cleared, %llu calls opened, %llu dispatched by the simulated room, "
           "%llu closed, %llu errors",
           ts, what, s->n, c->sent, c->acked, c->answered, c->on_scene, c->cleared, c->calls,
           c->room_dispatched, c->closed, c->errors);
    if (s->protocol == SIM_MQTT)
        printf(", %llu assignments received over MQTT, %llu pings answered", c->commands, c->pings);
    putchar('\n');
    if (c == &s->minute && s->shown > SIM_ERRORS_SHOWN)
        printf("(%u error lines not shown)\n", s->shown - SIM_ERRORS_SHOWN);
    fflush(stdout);
}

/* Whether positions, statuses or the calls' commands still wait for the server. */
static bool busy(const struct sim *s)
{
    for (size_t i = 0; i < s->nxf; i++)
        if (s->xf[i]->kind == XF_OSMAND || s->xf[i]->kind == XF_STATUS ||
            s->xf[i]->kind == XF_CALL_OPEN || s->xf[i]->kind == XF_CALL_ASSIGN ||
            s->xf[i]->kind == XF_CALL_CLOSE)
            return true;
    for (size_t i = 0; i < s->n; i++)
        if (s->u[i].qlen || s->u[i].inflight)
            return true;
    return false;
}

/* The units' ticks, reports and timeouts; returns the time of the next tick or retry. */
static int64_t units_step(struct sim *s, int64_t now, bool ticking, int64_t wake)
{
    for (size_t i = 0; i < s->n; i++) {
        struct sim_unit *u = &s->u[i];
        if (ticking && now >= u->next_us) {
            unit_tick(s, u, now);
            u->next_us = u->next_us + s->interval_us > now ? u->next_us + s->interval_us
                                                           : now + s->interval_us;
        }
        if ((u->tlt == TLT_HELLO || u->tlt == TLT_ACK) && now > u->deadline_us) {
            sim_err(s, u, "no answer on the Teltonika link");
            tlt_close(u, now + SIM_RETRY_US);
        }
        if (u->mq && mosquitto_socket(u->mq) >= 0)
            mosquitto_loop_misc(u->mq); /* keepalive; a connection that never came up is dropped */
        unit_flush(s, u, now);
        wake = ticking && u->next_us < wake ? u->next_us : wake;
        wake = u->qlen && u->retry_us > now && u->retry_us < wake ? u->retry_us : wake;
        if ((u->tlt == TLT_HELLO || u->tlt == TLT_ACK) && u->deadline_us < wake)
            wake = u->deadline_us;
    }
    return wake;
}

static int run(struct sim *s, int64_t seconds)
{
    int64_t t0 = am_mono_us(), next_poll = t0, next_report = t0 + SIM_REPORT_US;
    int64_t end = seconds ? t0 + seconds * 1000000 : INT64_MAX, drain_until = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->u[i].last_us = t0;
        s->u[i].next_us = t0 + (int64_t)(rnd(s) % (uint64_t)s->interval_us);
        patrol_route(s, &s->u[i]);
    }
    if (s->calls_per_hour)
        s->next_call_us = t0 + call_gap_us(s);
    struct pollfd *pfd = calloc(s->maxxf + s->n, sizeof(*pfd));
    struct sim_unit **pu = calloc(s->n, sizeof(*pu));
    int code = pfd && pu ? 0 : cli_fail("out of memory");
    while (!code) {
        int64_t now = am_mono_us();
        if (!drain_until && (stop_signal || now >= end)) {
            drain_until = now + SIM_DRAIN_US; /* no news now, but what is sent is finished */
            s->draining = true;
        }
        if (drain_until && (now >= drain_until || !busy(s)))
            break;
        if (s->relogin && !drain_until && now >= s->login_after_us) {
            s->relogin = false;
            s->login_after_us = now + 30 * 1000000LL;
            login(s);
        }
        if (!drain_until && (now >= next_poll || s->poll_soon)) {
            s->poll_soon = false;
            xfer_start(s, XF_POLL, NULL, "GET", "/api/v1/units", NULL, NULL, NULL);
            next_poll = now + SIM_POLL_US;
        }
        if (now >= next_report) {
            report(s, &s->minute, "last minute");
            s->minute = (struct sim_count){0};
            s->shown = 0;
            next_report += SIM_REPORT_US;
        }
        int64_t wake = drain_until ? drain_until : end < next_poll ? end : next_poll;
        wake = units_step(s, now, !drain_until, next_report < wake ? next_report : wake);
        wake = drain_until ? wake : room_step(s, now, wake);
        size_t nx = s->nxf, np = 0;
        for (size_t i = 0; i < nx; i++, np++) {
            pfd[np] = (struct pollfd){s->xf[i]->fd, s->xf[i]->reading ? POLLIN : POLLOUT, 0};
            wake = s->xf[i]->deadline_us < wake ? s->xf[i]->deadline_us : wake;
        }
        for (size_t i = 0; i < s->n; i++) {
            struct sim_unit *u = &s->u[i];
            int fd = u->fd;
            short ev = u->outsent < u->outlen ? POLLOUT : POLLIN;
            if (u->mq) {
                fd = mosquitto_socket(u->mq);
                ev = POLLIN | (mosquitto_want_write(u->mq) ? POLLOUT : 0);
            }
            if (fd >= 0) {
                pu[np - nx] = u;
                pfd[np++] = (struct pollfd){fd, ev, 0};
            }
        }
        int64_t wait_ms = (wake - now + 999) / 1000;
        wait_ms = wait_ms < 0 ? 0 : wait_ms;
        if (poll(pfd, np, wait_ms > 1000 ? 1000 : (int)wait_ms) < 0 && errno != EINTR) {
            code = cli_fail("poll: %s", strerror(errno));
            break;
        }
        now = am_mono_us();
        for (size_t i = nx; i < np; i++) {
            struct sim_unit *u = pu[i - nx];
            if (pfd[i].revents && u->mq && mosquitto_socket(u->mq) == pfd[i].fd)
                mqtt_io(u, pfd[i].revents);
            else if (pfd[i].revents && u->fd == pfd[i].fd)
                tlt_io(s, u, now);
        }
        for (size_t i = 0; i < nx; i++) { /* xfer_finish may append to s->xf */
            struct xfer *x = s->xf[i];
            int rc = pfd[i].revents ? xfer_io(x) : 0;
            rc = !rc && now > x->deadline_us ? AM_EIO : rc;
            if ((x->done = rc != 0))
                xfer_finish(s, x, rc, now);
        }
        size_t keep = 0;
        for (size_t i = 0; i < s->nxf; i++) {
            if (s->xf[i]->done)
                xfer_free(s->xf[i]);
            else
                s->xf[keep++] = s->xf[i];
        }
        s->nxf = keep;
    }
    free(pfd);
    free(pu);
    report(s, &s->total, stop_signal ? "stopped, in all" : "done, in all");
    return code;
}

/* --protocol NAME: false, and a line that says why, if it is none of ours. */
static bool parse_protocol(struct sim *s, const char *v)
{
    for (size_t i = 0; i < sizeof(sim_protocols) / sizeof(sim_protocols[0]); i++)
        if (!strcmp(v, sim_protocols[i])) {
            s->protocol = (enum sim_protocol)i;
            return true;
        }
    cli_fail("--protocol: want osmand, teltonika or mqtt, not '%s'", v);
    return false;
}

/* --mqtt HOST[:PORT] or [IPv6][:PORT]: false, and a line that says why, if it is not that. */
static bool parse_broker(struct sim *s, const char *v)
{
    const char *host = v, *port;
    size_t n;
    int64_t p = 1883;
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        host = v + 1;
        n = close && (!close[1] || close[1] == ':') ? (size_t)(close - host) : 0;
        port = close && close[1] ? close + 2 : NULL;
    } else {
        port = strchr(v, ':');
        /* A second colon: an IPv6 address, which wants its brackets. */
        n = port && strchr(port + 1, ':') ? 0 : port ? (size_t)(port - v) : strlen(v);
        port = port ? port + 1 : NULL;
    }
    if (!n || n >= sizeof(s->mqtt_host) || (port && am_parse_i64(port, 1, 65535, &p))) {
        cli_fail("--mqtt: want HOST:PORT ([ADDRESS]:PORT for IPv6), not '%s'", v);
        return false;
    }
    snprintf(s->mqtt_host, sizeof(s->mqtt_host), "%.*s", (int)n, host);
    s->mqtt_port = (int)p;
    return true;
}

int cli_simulate(struct app *a, int argc, char **argv)
{
    struct sim s = {.speedup = 1.0,
                    .snap_max_m = (double)a->cfg.roads_snap_max_m,
                    .mqtt_host = "127.0.0.1",
                    .mqtt_port = 1883};
    const char *server = NULL, *graph = NULL, *env = getenv("AMANE_SIM_PASSWORD");
    int64_t units = 0, osmand_port = 5055, tlt_port = 5027, interval_ms = 2000, seconds = 0,
            room_after = 60;
    const struct {
        const char *name;
        int64_t *v, min, max;
    } nums[] = {
        {"--units", &units, 1, SIM_MAX_UNITS},     {"--osmand-port", &osmand_port, 1, 65535},
        {"--teltonika-port", &tlt_port, 1, 65535}, {"--interval-ms", &interval_ms, 100, 3600000},
        {"--seconds", &seconds, 1, 366 * 86400},   {"--calls-per-hour", &s.calls_per_hour, 0, 3600},
        {"--room-after", &room_after, 0, 86400}};
    bool pw_stdin = false;
    am_strlcpy(s.user, "admin", sizeof(s.user));
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--password-stdin")) {
            pw_stdin = true;
            continue;
        }
        const char *o = argv[i], *v = i + 1 < argc ? argv[++i] : NULL;
        char *end = NULL;
        bool ok = v != NULL;
        size_t k = 0;
        while (k < sizeof(nums) / sizeof(nums[0]) && strcmp(o, nums[k].name))
            k++;
        if (k < sizeof(nums) / sizeof(nums[0])) {
            if (!v || am_parse_i64(v, nums[k].min, nums[k].max, nums[k].v)) {
                cli_fail("%s: want an integer from %lld to %lld, not '%s'", o,
                         (long long)nums[k].min, (long long)nums[k].max, v ? v : "");
                return usage();
            }
        } else if (!strcmp(o, "--server"))
            server = v;
        else if (!strcmp(o, "--graph"))
            graph = v;
        else if (!strcmp(o, "--user"))
            ok = ok && am_strlcpy(s.user, v, sizeof(s.user)) < sizeof(s.user);
        else if (!strcmp(o, "--protocol"))
            ok = ok && parse_protocol(&s, v);
        else if (!strcmp(o, "--mqtt"))
            ok = ok && parse_broker(&s, v);
        else if (!strcmp(o, "--speedup"))
            ok = ok && (s.speedup = strtod(v, &end), end != v && !*end) && s.speedup >= 0.1 &&
                 s.speedup <= 1000;
        else
            ok = false;
        if (!ok)
            return usage();
    }
    if (!server || !units)
        return usage();
    s.interval_us = interval_ms * 1000;
    s.room_after_us = (int64_t)((double)room_after * 1e6 / s.speedup);
    if (pw_stdin && !fgets(s.password, sizeof(s.password), stdin))
        return cli_fail("no password on stdin");
    else if (!pw_stdin && !env)
        return cli_fail("no password: use --password-stdin or set AMANE_SIM_PASSWORD");
    else if (!pw_stdin)
        am_strlcpy(s.password, env, sizeof(s.password));
    s.password[strcspn(s.password, "\r\n")] = '\0';
    char path[1100], why[512];
    if (graph)
        am_strlcpy(path, graph, sizeof(path));
    else
        app_roads_path(&a->cfg, path, sizeof(path));
    if (!path[0])
        return cli_fail("routing is off (roads.graph = off): give --graph GRAPH");
    if (geo_roads_open(path, &s.g, why, sizeof(why)))
        return cli_fail("cannot load the road graph: %s", why);
    geo_roads_info(s.g, &s.info);
    am_random(&s.rng, sizeof(s.rng));
    s.rng |= 1;
    s.u = calloc((size_t)units, sizeof(*s.u));
    /* A report, a poll, a crew's few requests at once; and the calls'. */
    s.maxxf = 4 * (size_t)units + 8 + SIM_ROOM_BUSY;
    s.xf = calloc(s.maxxf, sizeof(*s.xf));
    s.calls = calloc(SIM_MAX_CALLS, sizeof(*s.calls));
    snprintf(s.run_id, sizeof(s.run_id), "%016llx", (unsigned long long)rnd(&s));
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int code = !s.u || !s.xf || !s.calls || !s.info.nodes
                   ? cli_fail("out of memory or an empty graph")
                   : 0;
    code = code ? code : resolve(&s, server, (int)osmand_port, (int)tlt_port);
    if (!code && s.protocol == SIM_MQTT) {
        struct sockaddr_storage broker; /* only to say now that the name does not resolve */
        code = lookup(s.mqtt_host, s.mqtt_port, &broker);
    }
    code = code ? code : login(&s);
    code = code ? code : take_units(&s, (size_t)units);
    code = code ? code : bind_devices(&s);
    code = code || s.protocol != SIM_MQTT ? code : mqtt_setup(&s);
    if (!code) {
        char over[300];
        snprintf(over, sizeof(over), "%s", s.protocol == SIM_OSMAND ? "OsmAnd" : "Teltonika");
        if (s.protocol == SIM_MQTT)
            snprintf(over, sizeof(over), "MQTT (broker %s:%d)", s.mqtt_host, s.mqtt_port);
        printf("simulating %zu units over %s every %lld ms (speedup %g) on %u road nodes", s.n,
               over, (long long)interval_ms, s.speedup, s.info.nodes);
        if (s.calls_per_hour && room_after)
            printf("; %lld calls an hour, the room acting after %lld s\n",
                   (long long)s.calls_per_hour, (long long)room_after);
        else if (s.calls_per_hour)
            printf("; %lld calls an hour, no simulated room\n", (long long)s.calls_per_hour);
        else
            putchar('\n');
        fflush(stdout);
        code = run(&s, seconds);
    }
    for (size_t i = 0; i < s.nxf; i++)
        xfer_free(s.xf[i]);
    for (size_t i = 0; i < s.n; i++) {
        geo_route_release(&s.u[i].route);
        if (s.u[i].fd >= 0)
            close(s.u[i].fd);
        if (s.u[i].mq) {
            if (s.u[i].mq_up)
                mosquitto_disconnect(s.u[i].mq); /* the broker keeps the session */
            mosquitto_destroy(s.u[i].mq);
        }
    }
    if (s.mqtt_lib)
        mosquitto_lib_cleanup();
    for (size_t i = 0; i < s.ncalls; i++) {
        json_decref(s.calls[i]->body);
        free(s.calls[i]);
    }
    free(s.calls);
    free(s.xf);
    free(s.u);
    geo_roads_free(s.g);
    return code;
}
