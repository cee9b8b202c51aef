/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ingest_load.c - the device load of issue 5 against a running amaned:
 * many trackers reporting positions over OsmAnd HTTP (the Traccar Client
 * app) or Teltonika Codec 8 TCP, each report counted only when amaned
 * acknowledges it, which it does once the position is durable (docs/avl.md).
 * What is measured is the whole path: decode, state, trail batch written,
 * acknowledgement read back here.
 *
 * One thread, one epoll loop, non-blocking sockets, no library but jansson
 * and libc, so that the client costs little of the machine it shares with
 * the server.
 *
 * Teltonika: one TCP connection per device (a tracker opens its own, with
 * its IMEI 350000000000000 + i), packets of --records records, one packet
 * in flight per connection as a real tracker does. OsmAnd: --connections
 * keep-alive HTTP/1.1 connections, device i on connection i % C, one
 * request in flight per connection (a GET as the app's URL, devices
 * "bench-<i>").
 *
 * Pacing is open loop per connection: report k is due at its start plus k
 * periods (a Teltonika device: --records / --rate-per-device seconds; an
 * OsmAnd connection: 1 / (its devices * --rate-per-device)); a report that
 * falls due while the previous one still waits is sent when its answer
 * arrives. So an amaned that keeps up acknowledges the offered load, and
 * one that does not shows its capacity. amaned drops what a device sends
 * beyond 20 positions in a calendar second (--limit): each device keeps to
 * a budget per second of its own clock that leaves room for one report
 * read in the next second (limit - 1 positions for OsmAnd, limit - records
 * for Teltonika, or one packet a second when records > limit / 2). A
 * Teltonika packet of more than --limit records is never acknowledged: amaned
 * keeps its first 20 positions, drops the rest and closes the connection
 * (counted here as "closed").
 *
 * Every position has its own time (milliseconds, increasing per device,
 * never ahead of the clock) and lies in central Casablanca, on a random walk.
 *
 * Latency: from writing the report to reading its acknowledgement, for the
 * reports acknowledged in the measured window (after --warmup seconds).
 * --acked FILE writes "device,time_us" for every acknowledged position
 * (warm-up included) so that the caller can check that each is stored.
 *
 * --setup osmand|teltonika: instead, on the API port, logs in as admin,
 * creates the units BENCH-0001... (--units; those that exist are kept) and
 * binds the --devices devices round robin to them.
 *
 * Output: one JSON line on stdout. Exit status 0 if the run completed (even
 * with refused reports, which the line counts), 1 if it could not run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/bench.h"
#include "../common/samples.h"

#define MAX_DEVICES    100000
#define MAX_CONNS      20000
#define MAX_RECORDS    255
#define IN_MAX         8192
#define REQ_MAX        4096
#define CONNECTING_MAX 128    /* connections being opened at once */
#define RECONNECT_US   100000 /* wait before opening a failed connection again */
#define IMEI_BASE      350000000000000LL
#define DEVICE_SZ      24

enum proto { P_OSMAND, P_TELTONIKA, P_MQTT };

static const char *const proto_names[] = {"osmand", "teltonika", "mqtt"};

/* ------------------------------------------------------------- options */

static struct {
    enum proto proto;
    const char *host;
    int port;
    int devices, conns, records, seconds, warmup, drain, limit, io, units;
    double rate;
    const char *acked_path;
    const char *setup; /* a protocol name: setup mode */
    const char *user, *password;
    int stream_port; /* the API port: measure report -> WebSocket stream latency */
    const char *stream_user, *stream_password;
} opt = {
    .proto = P_OSMAND,
    .host = "127.0.0.1",
    .devices = 2000,
    .records = 10,
    .seconds = 20,
    .warmup = 3,
    .drain = 5,
    .limit = 20,
    .io = 7,
    .units = 100,
    .rate = 10.0,
    .user = "admin",
    .password = "amane-admin-2025",
    .stream_user = "dispatcher",
    .stream_password = "amane-demo-2025",
};

/* A whole number in [lo, hi] or die naming the option. */
static int int_arg(const char *name, const char *s, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        die("--%s: '%s' is not an integer in [%d, %d]", name, s, lo, hi);
    return (int)v;
}

/* xorshift64*: the same walk every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------- HTTP answers */

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
 * (r filled), 0 when more bytes are needed, -1 when it is malformed or
 * chunked (amaned always sends a Content-Length) or larger than `max`.
 */
static int resp_parse(const char *buf, size_t len, size_t max, struct resp *r)
{
    const char *eoh = memmem(buf, len, "\r\n\r\n", 4);
    if (!eoh)
        return len >= max ? -1 : 0;
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
                if (v[i] < '0' || v[i] > '9' || clen > max)
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
    if (hdr_len + clen > max)
        return -1;
    if (len < hdr_len + clen)
        return 0;
    r->body_off = hdr_len;
    r->body_len = clen;
    r->total = hdr_len + clen;
    return 1;
}

static struct sockaddr_in server_addr;

static void resolve(void)
{
    memset(&server_addr, 0, sizeof(server_addr));
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1)
        die("--host: '%s' is not an IPv4 address", opt.host);
}

static int tcp_socket(bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* ------------------------------------------------------------- devices */

/* What the server is told a device is called: an IMEI, "veh-<i>" (MQTT) or "bench-<i>". */
static void device_name(int i, char *out, size_t n)
{
    if (opt.proto == P_TELTONIKA)
        snprintf(out, n, "%015lld", IMEI_BASE + i);
    else if (opt.proto == P_MQTT)
        snprintf(out, n, "veh-%d", i);
    else
        snprintf(out, n, "bench-%d", i);
}

struct device {
    double lat, lon, heading, speed_kmh; /* the walk */
    int64_t last_ms;                     /* the time of its latest position */
    int64_t budget_sec;                  /* the second of this clock its count is for */
    int budget_used;
};

static struct device *devs;

/* Central Casablanca, where the road graph amaned loads by default has roads. */
#define LAT_MIN 33.556
#define LAT_MAX 33.591
#define LON_MIN -7.623
#define LON_MAX -7.558

static void device_init(struct device *d)
{
    d->lat = LAT_MIN + rnd() * (LAT_MAX - LAT_MIN);
    d->lon = LON_MIN + rnd() * (LON_MAX - LON_MIN);
    d->heading = rnd() * 360;
    d->speed_kmh = 20 + rnd() * 40;
}

/* Moves the device about dt seconds along its heading, turning a little; returns its time. */
static int64_t device_step(struct device *d, double dt, int64_t now_ms)
{
    double m = d->speed_kmh / 3.6 * dt;
    d->heading = fmod(d->heading + (rnd() - 0.5) * 30 + 360, 360);
    d->lat += m * cos(d->heading * M_PI / 180) / 111320.0;
    d->lon += m * sin(d->heading * M_PI / 180) / (111320.0 * cos(d->lat * M_PI / 180));
    if (d->lat < LAT_MIN || d->lat > LAT_MAX || d->lon < LON_MIN || d->lon > LON_MAX) {
        d->lat = fmin(fmax(d->lat, LAT_MIN), LAT_MAX);
        d->lon = fmin(fmax(d->lon, LON_MIN), LON_MAX);
        d->heading = fmod(d->heading + 180, 360);
    }
    /* Distinct and increasing per device; never ahead of the clock by more than a few ms. */
    d->last_ms = now_ms > d->last_ms ? now_ms : d->last_ms + 1;
    return d->last_ms;
}

/*
 * Whether `n` more positions of the device may go now, by its budget for
 * this second of the wall clock; counts them if so.
 */
static bool device_budget(struct device *d, int n, int64_t now_real)
{
    int64_t sec = now_real / 1000000;
    if (d->budget_sec != sec) {
        d->budget_sec = sec;
        d->budget_used = 0;
    }
    int budget = opt.proto != P_TELTONIKA ? opt.limit - 1 : 2 * n <= opt.limit ? opt.limit - n : n;
    if (d->budget_used + n > budget)
        return false;
    d->budget_used += n;
    return true;
}

/* ------------------------------------------------------------- Teltonika packets */

static uint16_t crc16_ibm(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* The IO elements of a plain FMB tracker, the first --io of them: id, size, value. */
static const struct {
    uint8_t id, size;
    uint32_t value;
} io_set[] = {
    {239, 1, 1},     /* ignition */
    {240, 1, 1},     /* movement */
    {21, 1, 4},      /* GSM signal */
    {69, 1, 1},      /* GNSS status */
    {66, 2, 12750},  /* external voltage, mV */
    {67, 2, 4012},   /* battery voltage, mV */
    {16, 4, 123456}, /* total odometer, m */
};
#define IO_SET_N ((int)(sizeof(io_set) / sizeof(io_set[0])))

/* The largest packet of opt.records records. */
static size_t tlt_packet_max(void)
{
    return 8 + 2 + (size_t)opt.records * (8 + 1 + 15 + 6 + 2 * (size_t)IO_SET_N + 8) + 1 + 4;
}

/*
 * Writes a Codec 8 AVL packet of `n` records of device `d` into out and the
 * times of its records into times_ms; returns its length.
 */
static size_t tlt_packet(struct device *d, int n, uint8_t *out, int64_t *times_ms, double period,
                         int64_t now_ms)
{
    uint8_t *p = out + 8, *data = p;
    *p++ = 0x08;
    *p++ = (uint8_t)n;
    for (int r = 0; r < n; r++) {
        /* Records spread over the period, oldest first, as a tracker buffers them. */
        int64_t at = now_ms - (int64_t)((n - 1 - r) * period * 1000 / n);
        int64_t t = device_step(d, period / n, at);
        times_ms[r] = t;
        p = put_be(p, (uint64_t)t, 8);
        *p++ = 0; /* priority */
        p = put_be(p, (uint32_t)(int32_t)lround(d->lon * 1e7), 4);
        p = put_be(p, (uint32_t)(int32_t)lround(d->lat * 1e7), 4);
        p = put_be(p, 40, 2);                           /* altitude, m */
        p = put_be(p, (uint64_t)lround(d->heading), 2); /* angle */
        *p++ = 11;                                      /* satellites */
        p = put_be(p, (uint64_t)lround(d->speed_kmh), 2);
        int counts[9] = {0};
        for (int i = 0; i < opt.io; i++)
            counts[io_set[i].size]++;
        *p++ = 0; /* event IO id */
        *p++ = (uint8_t)opt.io;
        for (int size = 1; size <= 8; size *= 2) {
            *p++ = (uint8_t)counts[size];
            for (int i = 0; i < opt.io; i++)
                if (io_set[i].size == size) {
                    *p++ = io_set[i].id;
                    p = put_be(p, io_set[i].value, size);
                }
        }
    }
    *p++ = (uint8_t)n;
    size_t dlen = (size_t)(p - data);
    put_be(out, 0, 4);
    put_be(out + 4, dlen, 4);
    p = put_be(p, crc16_ibm(data, dlen), 4);
    return (size_t)(p - out);
}

/* ------------------------------------------------------------- connections */

enum conn_state {
    CS_CLOSED,     /* waiting to be opened (again) at due_us */
    CS_CONNECTING, /* connect() in progress */
    CS_HELLO,      /* Teltonika: IMEI sent, waiting for 0x01 */
    CS_READY,      /* idle: the next report is due at due_us */
    CS_WAITING,    /* a report in flight */
};

struct conn {
    int fd;
    enum conn_state state;
    bool in_heap;
    size_t heap_pos;
    int64_t due_us;   /* the next report (CS_READY) or the next attempt (CS_CLOSED) */
    double period_us; /* between reports of this connection */
    /* OsmAnd: devices first_dev, first_dev + C, ... ; Teltonika: the device first_dev. */
    int first_dev, ndev;
    uint64_t seq; /* reports sent */
    /* The report in flight. */
    int64_t sent_us;
    int cur_dev, nrec;
    int64_t *rec_ms; /* Teltonika: opt.records times; OsmAnd: one */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    uint8_t in[IN_MAX];
    size_t in_len;
};

static struct conn *conns;
static int nconns;
static int epfd;

/* ------------------------------------------------------------- the run */

enum phase { PH_CONNECT, PH_LOAD, PH_DRAIN };
static enum phase phase;
static int64_t t0, t_measure, t_stop, t_drain_end;
static int connecting;      /* CS_CONNECTING + CS_HELLO */
static int64_t outstanding; /* reports in flight */

/* Every acknowledged position, kept in memory and written after the run so
 * that the file costs the measured part nothing. */
struct acked {
    int dev;
    int64_t ms;
};
static struct acked *acked_log;
static size_t acked_n, acked_cap;

static struct {
    uint64_t sent, acked_all, acked, sent_positions;
    uint64_t http_400, http_429, http_4xx, http_5xx;
    uint64_t refused_handshake, closed, connect_failed, bad_answer;
    uint64_t *per_second;
    struct samples lat;
} st;

/* ---- a min-heap of connections by due_us */

static struct conn **heap;
static size_t heap_n;

static bool heap_less(size_t a, size_t b)
{
    return heap[a]->due_us < heap[b]->due_us;
}

static void heap_swap(size_t a, size_t b)
{
    struct conn *x = heap[a];
    heap[a] = heap[b];
    heap[b] = x;
    heap[a]->heap_pos = a;
    heap[b]->heap_pos = b;
}

static void heap_push(struct conn *c)
{
    if (c->in_heap)
        return;
    size_t i = heap_n++;
    heap[i] = c;
    c->heap_pos = i;
    c->in_heap = true;
    while (i && heap_less(i, (i - 1) / 2)) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct conn *heap_pop(void)
{
    struct conn *top = heap[0];
    top->in_heap = false;
    heap[0] = heap[--heap_n];
    heap[0]->heap_pos = 0;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_n && heap_less(l, m))
            m = l;
        if (r < heap_n && heap_less(r, m))
            m = r;
        if (m == i)
            break;
        heap_swap(i, m);
        i = m;
    }
    return top;
}

/* ---- MQTT 3.1.1 (the few packets a publishing vehicle needs) */

static uint8_t *mqtt_remaining(uint8_t *p, size_t n)
{
    do {
        uint8_t b = (uint8_t)(n % 128);
        n /= 128;
        *p++ = b | (n ? 0x80 : 0);
    } while (n);
    return p;
}

/* CONNECT with a clean session and no keep-alive (the run is short); returns its length. */
static size_t mqtt_connect(uint8_t *out, const char *client_id)
{
    size_t idlen = strlen(client_id);
    uint8_t *p = out;
    *p++ = 0x10;
    p = mqtt_remaining(p, 10 + 2 + idlen);
    static const uint8_t vh[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0};
    memcpy(p, vh, sizeof(vh));
    p += sizeof(vh);
    p = put_be(p, idlen, 2);
    memcpy(p, client_id, idlen);
    return (size_t)(p + idlen - out);
}

/* PUBLISH at QoS 1 of `payload` on the device's telemetry topic; returns its length. */
static size_t mqtt_publish(uint8_t *out, size_t cap, const char *device, uint16_t id,
                           const char *payload, size_t plen)
{
    char topic[128];
    int tlen = snprintf(topic, sizeof(topic), "amane/v1/units/%s/telemetry", device);
    size_t rem = 2 + (size_t)tlen + 2 + plen;
    if (tlen < 0 || rem + 5 > cap)
        die("MQTT message too long");
    uint8_t *p = out;
    *p++ = 0x32;
    p = mqtt_remaining(p, rem);
    p = put_be(p, (uint64_t)tlen, 2);
    memcpy(p, topic, (size_t)tlen);
    p += tlen;
    p = put_be(p, id, 2);
    memcpy(p, payload, plen);
    return (size_t)(p + plen - out);
}

/* ---- the stream probe: report -> position on a dispatcher's WebSocket stream */

#define RING 2048 /* reports remembered per unit */

struct sent_rec {
    int64_t ms, sent_us;
};

static struct sent_rec (*rings)[RING]; /* per unit, NULL without --stream-port */
static unsigned *ring_head;

static struct {
    int fd;
    uint8_t *in;
    size_t len, cap;
    char *msg;
    size_t mlen, mcap;
    uint64_t messages, positions, matched;
    struct samples lat;
} ws = {.fd = -1};
static int ws_tag; /* its address marks the stream in epoll */

/* Remembers when the position of time ms of device dev was sent. */
static void probe_note(int dev, int64_t ms, int64_t sent_us)
{
    if (!rings)
        return;
    int unit = dev % opt.units;
    rings[unit][ring_head[unit]++ % RING] = (struct sent_rec){ms, sent_us};
}

/* "2026-11-29T13:40:02.123000Z" -> microseconds; -1 if it is not that. */
static int64_t parse_time_us(const char *t)
{
    int f[6], widths[6] = {4, 2, 2, 2, 2, 2};
    const char seps[6] = {'-', '-', 'T', ':', ':', '.'};
    const char *p = t;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int k = 0; k < widths[i]; k++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            f[i] = f[i] * 10 + (*p - '0');
        }
        if (*p++ != seps[i])
            return -1;
    }
    int64_t frac = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        frac = digits < 6 ? frac * 10 + (*p - '0') : frac;
    for (; digits < 6; digits++)
        frac *= 10;
    struct tm tm = {.tm_year = f[0] - 1900,
                    .tm_mon = f[1] - 1,
                    .tm_mday = f[2],
                    .tm_hour = f[3],
                    .tm_min = f[4],
                    .tm_sec = f[5]};
    return (int64_t)timegm(&tm) * 1000000 + frac;
}

static void ws_message(const char *m, size_t n, int64_t now)
{
    ws.messages++;
    json_t *root = json_loadb(m, n, 0, NULL);
    json_t *units = json_object_get(root, "units");
    const char *type = json_string_value(json_object_get(root, "type"));
    size_t i;
    json_t *u;
    if (type && strcmp(type, "avl.positions") == 0) {
        json_array_foreach(units, i, u)
        {
            const char *name = json_string_value(json_object_get(u, "unit"));
            const char *t = json_string_value(json_object_get(u, "time"));
            char *end;
            if (!name || !t || strncmp(name, "BENCH-", 6) != 0)
                continue;
            long idx = strtol(name + 6, &end, 10) - 1;
            int64_t us = parse_time_us(t);
            if (*end || idx < 0 || idx >= opt.units || us < 0)
                continue;
            ws.positions++;
            for (unsigned k = 0; k < RING && k < ring_head[idx]; k++) {
                const struct sent_rec *r = &rings[idx][(ring_head[idx] - 1 - k) % RING];
                if (r->ms * 1000 != us)
                    continue;
                ws.matched++;
                if (now >= t_measure && now < t_stop)
                    samples_add(&ws.lat, now - r->sent_us);
                break;
            }
        }
    }
    json_decref(root);
}

/* Reads the stream: frames from the server (never masked), whole messages to ws_message. */
static void ws_read(int64_t now)
{
    for (;;) {
        if (ws.cap - ws.len < 65536) {
            ws.cap = ws.cap ? 2 * ws.cap : 1 << 20;
            if (!(ws.in = realloc(ws.in, ws.cap)))
                die("out of memory");
        }
        ssize_t n = recv(ws.fd, ws.in + ws.len, ws.cap - ws.len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            note("the stream closed");
            epoll_ctl(epfd, EPOLL_CTL_DEL, ws.fd, NULL);
            close(ws.fd);
            ws.fd = -1;
            return;
        }
        ws.len += (size_t)n;
    }
    size_t off = 0;
    while (ws.len - off >= 2) {
        const uint8_t *f = ws.in + off;
        size_t hdr = 2, plen = f[1] & 0x7f, avail = ws.len - off;
        if (plen == 126) {
            if (avail < 4)
                break;
            plen = (size_t)f[2] << 8 | f[3];
            hdr = 4;
        } else if (plen == 127) {
            if (avail < 10)
                break;
            plen = 0;
            for (int k = 2; k < 10; k++)
                plen = plen << 8 | f[k];
            hdr = 10;
        }
        if (f[1] & 0x80)
            hdr += 4;
        if (avail < hdr || avail - hdr < plen)
            break;
        int opcode = f[0] & 0x0f;
        if (opcode == 9 && plen <= 125) { /* ping: a pong, masked with a zero key */
            uint8_t pong[2 + 4 + 125] = {0x8A, (uint8_t)(0x80 | plen)};
            memcpy(pong + 6, f + hdr, plen);
            if (send(ws.fd, pong, 6 + plen, MSG_NOSIGNAL) < 0)
                note("cannot answer the stream's ping");
        } else if (opcode == 0 || opcode == 1 || opcode == 2) {
            if (ws.mlen + plen > ws.mcap) {
                ws.mcap = ws.mlen + plen + 65536;
                if (!(ws.msg = realloc(ws.msg, ws.mcap)))
                    die("out of memory");
            }
            memcpy(ws.msg + ws.mlen, f + hdr, plen);
            ws.mlen += plen;
            if (f[0] & 0x80) {
                ws_message(ws.msg, ws.mlen, now);
                ws.mlen = 0;
            }
        }
        off += hdr + plen;
    }
    memmove(ws.in, ws.in + off, ws.len - off);
    ws.len -= off;
}

static int http_call(int port, int *fd, const char *method, const char *path, const char *token,
                     const char *json, char *body, size_t bodysz);

/* Logs in as the stream user and opens /api/v1/stream (blocking), then hands it to epoll. */
static void ws_open(void)
{
    char json[512], body[2048], req[1024];
    json_t *cred =
        json_pack("{ss ss}", "username", opt.stream_user, "password", opt.stream_password);
    char *cs = cred ? json_dumps(cred, JSON_COMPACT) : NULL;
    json_decref(cred);
    if (!cs || snprintf(json, sizeof(json), "%s", cs) >= (int)sizeof(json))
        die("bad stream credentials");
    free(cs);
    int fd = -1;
    int status = http_call(opt.stream_port, &fd, "POST", "/api/v1/auth/login", NULL, json, body,
                           sizeof(body));
    if (fd >= 0)
        close(fd);
    json_t *ans = status == 200 ? json_loads(body, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(ans, "token"));
    if (!tok)
        die("cannot log in as %s: status %d: %.300s", opt.stream_user, status, body);
    int len = snprintf(req, sizeof(req),
                       "GET /api/v1/stream HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                       opt.host, opt.stream_port, tok);
    json_decref(ans);
    if (len < 0 || (size_t)len >= sizeof(req))
        die("stream request too long");
    struct sockaddr_in addr = server_addr;
    addr.sin_port = htons((uint16_t)opt.stream_port);
    ws.fd = tcp_socket(false);
    if (ws.fd < 0 || connect(ws.fd, (struct sockaddr *)&addr, sizeof(addr)) ||
        send(ws.fd, req, (size_t)len, MSG_NOSIGNAL) != len)
        die("cannot open the stream: %s", strerror(errno));
    char buf[4096];
    size_t got = 0;
    const char *eoh = NULL;
    while (!eoh) {
        ssize_t n = recv(ws.fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            die("the stream did not answer");
        got += (size_t)n;
        buf[got] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
        if (!eoh && got == sizeof(buf) - 1)
            die("the stream's answer is too long");
    }
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0)
        die("the stream refused: %.200s", buf);
    ws.cap = 1 << 20;
    if (!(ws.in = malloc(ws.cap)))
        die("out of memory");
    size_t hl = (size_t)(eoh + 4 - buf);
    memcpy(ws.in, buf + hl, got - hl);
    ws.len = got - hl;
    int fl = 1;
    if (ioctl(ws.fd, FIONBIO, &fl))
        die("ioctl: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = &ws_tag};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, ws.fd, &ev))
        die("epoll_ctl: %s", strerror(errno));
    rings = calloc((size_t)opt.units, sizeof(*rings));
    ring_head = calloc((size_t)opt.units, sizeof(*ring_head));
    if (!rings || !ring_head)
        die("out of memory");
}

/* ---- sockets */

static void ep_set(struct conn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
                             .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev))
        die("epoll_ctl: %s", strerror(errno));
}

static void conn_open(struct conn *c, int64_t now)
{
    c->in_len = 0;
    c->out_len = c->out_off = 0;
    c->fd = tcp_socket(true);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev))
        die("epoll_ctl: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) &&
        errno != EINPROGRESS) {
        st.connect_failed++;
        close(c->fd);
        c->fd = -1;
        c->due_us = now + RECONNECT_US;
        heap_push(c);
        return;
    }
    c->state = CS_CONNECTING;
    connecting++;
}

/* Closes the connection; the report in flight, if any, is lost. Opens it again later. */
static void conn_drop(struct conn *c, int64_t now)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->state == CS_CONNECTING || c->state == CS_HELLO)
        connecting--;
    if (c->state == CS_WAITING)
        outstanding--;
    c->state = CS_CLOSED;
    if (phase != PH_DRAIN) {
        c->due_us = now + RECONNECT_US;
        heap_push(c);
    }
}

/* Writes what is pending; false if the connection failed. */
static bool conn_flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ep_set(c, true);
            return true;
        }
        if (n <= 0)
            return false;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return true;
}

/* The connection became ready for reports: schedule its next one. */
static void conn_ready(struct conn *c, int64_t now)
{
    c->state = CS_READY;
    if (phase == PH_LOAD) {
        if (c->due_us < now)
            c->due_us = now;
        heap_push(c);
    }
}

/* Sends the connection's next report if its device's budget allows; else waits for it. */
static void conn_report(struct conn *c, int64_t now)
{
    int64_t now_real = real_us();
    int64_t now_ms = now_real / 1000;
    int dev = c->first_dev, n = opt.proto == P_TELTONIKA ? opt.records : 1;
    if (opt.proto == P_OSMAND)
        dev += (int)(c->seq % (uint64_t)c->ndev) * nconns;
    struct device *d = &devs[dev];
    if (!device_budget(d, n, now_real)) {
        /* Just after the next second begins. */
        c->due_us = now + (1000000 - now_real % 1000000) + 1000;
        heap_push(c);
        return;
    }
    if (opt.proto == P_TELTONIKA) {
        c->out_len = tlt_packet(d, n, c->out, c->rec_ms, c->period_us / 1e6, now_ms);
    } else if (opt.proto == P_MQTT) {
        int64_t t = device_step(d, c->period_us / 1e6, now_ms);
        c->rec_ms[0] = t;
        time_t secs = (time_t)(t / 1000);
        struct tm tm;
        char when[32], payload[256], name[DEVICE_SZ];
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&secs, &tm));
        int plen = snprintf(payload, sizeof(payload),
                            "{\"time\":\"%s.%03dZ\",\"lat\":%.6f,\"lon\":%.6f,\"speed_kmh\":%.1f,"
                            "\"heading\":%.0f,\"ignition\":true,\"siren\":false}",
                            when, (int)(t % 1000), d->lat, d->lon, d->speed_kmh, d->heading);
        if (plen < 0 || (size_t)plen >= sizeof(payload))
            die("payload too long");
        device_name(dev, name, sizeof(name));
        c->out_len = mqtt_publish(c->out, c->out_cap, name, (uint16_t)(c->seq % 65535 + 1), payload,
                                  (size_t)plen);
    } else {
        int64_t t = device_step(d, (double)c->ndev * c->period_us / 1e6, now_ms);
        c->rec_ms[0] = t;
        int len = snprintf((char *)c->out, c->out_cap,
                           "GET /?id=bench-%d&lat=%.6f&lon=%.6f&timestamp=%lld&speed=%.1f"
                           "&bearing=%.0f&altitude=40&accuracy=5&batt=87 HTTP/1.1\r\n"
                           "Host: %s:%d\r\n\r\n",
                           dev, d->lat, d->lon, (long long)t, d->speed_kmh / 1.852, d->heading,
                           opt.host, opt.port);
        if (len < 0 || (size_t)len >= c->out_cap)
            die("request too long");
        c->out_len = (size_t)len;
    }
    c->out_off = 0;
    c->cur_dev = dev;
    c->nrec = n;
    c->sent_us = now;
    for (int r = 0; r < n; r++)
        probe_note(dev, c->rec_ms[r], now);
    c->seq++;
    c->due_us += (int64_t)c->period_us;
    c->state = CS_WAITING;
    outstanding++;
    st.sent++;
    st.sent_positions += (uint64_t)n;
    if (!conn_flush(c)) {
        st.closed++;
        conn_drop(c, now);
    }
}

/* The report in flight is acknowledged: count it, and send the next one if it is due. */
static void conn_acked(struct conn *c, bool ok, int64_t now)
{
    outstanding--;
    c->state = CS_READY;
    if (ok) {
        st.acked_all += (uint64_t)c->nrec;
        if (now >= t_measure && now < t_stop) {
            st.acked += (uint64_t)c->nrec;
            st.per_second[(now - t_measure) / 1000000] += (uint64_t)c->nrec;
            samples_add(&st.lat, now - c->sent_us);
        }
        if (opt.acked_path) {
            if (acked_n + (size_t)c->nrec > acked_cap) {
                size_t cap = acked_cap ? 2 * acked_cap : 1 << 20;
                struct acked *p = realloc(acked_log, cap * sizeof(*p));
                if (!p)
                    die("out of memory");
                acked_log = p;
                acked_cap = cap;
            }
            for (int r = 0; r < c->nrec; r++)
                acked_log[acked_n++] = (struct acked){c->cur_dev, c->rec_ms[r]};
        }
    }
    if (phase == PH_LOAD) {
        if (c->due_us <= now)
            conn_report(c, now);
        else
            heap_push(c);
    }
}

/* Reads what the server sent; handles complete answers. */
static void conn_read(struct conn *c, int64_t now)
{
    for (;;) {
        if (c->in_len == sizeof(c->in)) {
            st.bad_answer++;
            conn_drop(c, now);
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* Closed by the server: a refused packet (Teltonika) or an error. */
            if (c->state == CS_HELLO)
                st.refused_handshake++;
            else
                st.closed++;
            conn_drop(c, now);
            return;
        }
        c->in_len += (size_t)n;
    }
    for (;;) {
        size_t used = 0;
        if (opt.proto == P_TELTONIKA) {
            if (c->state == CS_HELLO && c->in_len >= 1) {
                used = 1;
                if (c->in[0] != 1) {
                    st.refused_handshake++;
                    conn_drop(c, now);
                    return;
                }
                connecting--;
                conn_ready(c, now);
            } else if (c->state == CS_WAITING && c->in_len >= 4) {
                used = 4;
                uint32_t count = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 |
                                 (uint32_t)c->in[2] << 8 | c->in[3];
                if (count != (uint32_t)c->nrec)
                    st.bad_answer++;
                conn_acked(c, count == (uint32_t)c->nrec, now);
            } else if (c->in_len && c->state != CS_WAITING && c->state != CS_HELLO) {
                st.bad_answer++; /* nothing was asked */
                conn_drop(c, now);
                return;
            }
        } else if (opt.proto == P_MQTT) {
            if (c->in_len < 2)
                break;
            if (c->in[1] & 0x80) { /* nothing the broker sends a publisher is that long */
                st.bad_answer++;
                conn_drop(c, now);
                return;
            }
            used = 2 + (size_t)c->in[1];
            if (c->in_len < used)
                break;
            if (c->in[0] == 0x20 && c->in[1] == 2 && c->state == CS_HELLO) {
                if (c->in[3] != 0) {
                    st.refused_handshake++;
                    conn_drop(c, now);
                    return;
                }
                connecting--;
                conn_ready(c, now);
            } else if (c->in[0] == 0x40 && c->in[1] == 2 && c->state == CS_WAITING) {
                conn_acked(c, true, now); /* PUBACK: the broker has it */
            } else {
                st.bad_answer++;
                conn_drop(c, now);
                return;
            }
        } else if (c->in_len) {
            struct resp r;
            int rc = resp_parse((const char *)c->in, c->in_len, sizeof(c->in), &r);
            if (rc == 0)
                break;
            if (rc < 0 || c->state != CS_WAITING) {
                st.bad_answer++;
                conn_drop(c, now);
                return;
            }
            used = r.total;
            if (r.status == 400)
                st.http_400++;
            else if (r.status == 429)
                st.http_429++;
            else if (r.status >= 500)
                st.http_5xx++;
            else if (r.status != 200)
                st.http_4xx++;
            if (r.close) {
                conn_acked(c, r.status == 200, now);
                if (c->state == CS_WAITING) /* conn_acked sent the next one: lost */
                    st.closed++;
                conn_drop(c, now);
                return;
            }
            conn_acked(c, r.status == 200, now);
        }
        if (!used)
            break;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        if (c->fd < 0)
            return;
    }
}

static void conn_event(struct conn *c, uint32_t events, int64_t now)
{
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
            st.connect_failed++;
            conn_drop(c, now);
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        ep_set(c, false);
        if (opt.proto == P_TELTONIKA) {
            char imei[DEVICE_SZ];
            device_name(c->first_dev, imei, sizeof(imei));
            c->out_len = put_be(c->out, 15, 2) - c->out;
            memcpy(c->out + c->out_len, imei, 15);
            c->out_len += 15;
            c->out_off = 0;
            c->state = CS_HELLO;
            if (!conn_flush(c)) {
                st.closed++;
                conn_drop(c, now);
            }
        } else if (opt.proto == P_MQTT) {
            char id[DEVICE_SZ + 8];
            device_name(c->first_dev, id, sizeof(id));
            c->out_len = mqtt_connect(c->out, id);
            c->out_off = 0;
            c->state = CS_HELLO;
            if (!conn_flush(c)) {
                st.closed++;
                conn_drop(c, now);
            }
        } else {
            connecting--;
            conn_ready(c, now);
        }
        return;
    }
    if (events & EPOLLOUT) {
        if (!conn_flush(c)) {
            st.closed++;
            conn_drop(c, now);
            return;
        }
        if (c->out_off == c->out_len)
            ep_set(c, false);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(c, now);
}

/* Waits for events until `until` (monotonic µs) or the first batch of them. */
static void pump(int64_t until)
{
    static struct epoll_event evs[1024];
    int64_t now = mono_us();
    int64_t wait = until - now;
    if (heap_n && heap[0]->due_us - now < wait)
        wait = heap[0]->due_us - now;
    int timeout = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
    int n = epoll_wait(epfd, evs, 1024, timeout);
    if (n < 0 && errno != EINTR)
        die("epoll_wait: %s", strerror(errno));
    /* The clock is read for each event and each report sent, so that a slow
     * pass over many events does not make their latencies all the same. */
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == &ws_tag)
            ws_read(mono_us());
        else
            conn_event(evs[i].data.ptr, evs[i].events, mono_us());
    }
    /* Due reports and reconnections. */
    for (now = mono_us(); heap_n && heap[0]->due_us <= now; now = mono_us()) {
        struct conn *c = heap_pop();
        if (c->state == CS_CLOSED) {
            if (connecting >= CONNECTING_MAX) {
                c->due_us = now + 1000;
                heap_push(c);
                break;
            }
            conn_open(c, now);
        } else if (c->state == CS_READY && phase == PH_LOAD) {
            conn_report(c, now);
        }
    }
}

static void run_load(void)
{
    int64_t offered = 0;
    if (opt.proto != P_OSMAND) {
        nconns = opt.devices;
        if (opt.conns && opt.conns != opt.devices)
            note("%s: one connection per device, --connections ignored", proto_names[opt.proto]);
    } else {
        nconns = opt.conns ? opt.conns : 500;
        if (nconns > opt.devices)
            nconns = opt.devices;
    }
    if (nconns > MAX_CONNS)
        die("at most %d connections", MAX_CONNS);
    devs = calloc((size_t)opt.devices, sizeof(*devs));
    conns = calloc((size_t)nconns, sizeof(*conns));
    heap = calloc((size_t)nconns, sizeof(*heap));
    st.per_second = calloc((size_t)opt.seconds + 1, sizeof(*st.per_second));
    if (!devs || !conns || !heap || !st.per_second)
        die("out of memory");
    for (int i = 0; i < opt.devices; i++)
        device_init(&devs[i]);
    size_t out_cap = opt.proto == P_TELTONIKA ? tlt_packet_max() : REQ_MAX;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->fd = -1;
        c->first_dev = i;
        c->ndev = opt.proto != P_OSMAND ? 1 : (opt.devices - i + nconns - 1) / nconns;
        c->period_us =
            opt.proto == P_TELTONIKA ? opt.records * 1e6 / opt.rate : 1e6 / (c->ndev * opt.rate);
        c->out_cap = out_cap;
        c->out = malloc(out_cap);
        c->rec_ms = calloc(MAX_RECORDS, sizeof(*c->rec_ms));
        if (!c->out || !c->rec_ms)
            die("out of memory");
    }
    offered = (int64_t)llround(opt.devices * opt.rate);
    FILE *acked_file = NULL;
    if (opt.acked_path && !(acked_file = fopen(opt.acked_path, "w")))
        die("cannot open '%s': %s", opt.acked_path, strerror(errno));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));

    /* The stream first: once thousands of HTTP connections are open, a login may wait for
     * one of amaned's header slots. */
    if (opt.stream_port)
        ws_open();
    /* Every connection open (and its IMEI accepted) before the clock starts. */
    phase = PH_CONNECT;
    int64_t start = mono_us();
    for (int i = 0; i < nconns; i++) {
        conns[i].due_us = start + (int64_t)i * 100; /* 10,000 connections a second at most */
        heap_push(&conns[i]);
    }
    for (;;) {
        int ready = 0;
        for (int i = 0; i < nconns; i++)
            ready += conns[i].state == CS_READY;
        if (ready == nconns)
            break;
        if (mono_us() - start > 60000000)
            die("only %d of %d connections ready after 60 s (refused IMEIs: %llu, connect "
                "failures: %llu)",
                ready, nconns, (unsigned long long)st.refused_handshake,
                (unsigned long long)st.connect_failed);
        pump(mono_us() + 50000);
    }
    note("%d connections ready in %.1f s", nconns, (mono_us() - start) / 1e6);

    phase = PH_LOAD;
    t0 = mono_us();
    int64_t real0 = real_us() - (mono_us() - t0); /* the wall clock at t0 */
    t_measure = t0 + (int64_t)opt.warmup * 1000000;
    t_stop = t_measure + (int64_t)opt.seconds * 1000000;
    /* Each connection's first report spread over its period. */
    heap_n = 0;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->in_heap = false;
        c->due_us = t0 + (int64_t)(c->period_us * i / nconns);
        heap_push(c);
    }
    while (mono_us() < t_stop)
        pump(t_stop);
    phase = PH_DRAIN;
    t_drain_end = t_stop + (int64_t)opt.drain * 1000000;
    while (outstanding > 0 && mono_us() < t_drain_end)
        pump(t_drain_end);
    int64_t unanswered = outstanding;
    for (size_t i = 0; acked_file && i < acked_n; i++) {
        char name[DEVICE_SZ];
        device_name(acked_log[i].dev, name, sizeof(name));
        fprintf(acked_file, "%s,%lld\n", name, (long long)acked_log[i].ms * 1000);
    }
    if (acked_file && fclose(acked_file))
        die("cannot write '%s'", opt.acked_path);
    for (int i = 0; i < nconns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);

    uint64_t smin = UINT64_MAX, smax = 0;
    for (int s = 0; s < opt.seconds; s++) {
        smin = st.per_second[s] < smin ? st.per_second[s] : smin;
        smax = st.per_second[s] > smax ? st.per_second[s] : smax;
    }
    json_t *lat = samples_summary(&st.lat);
    json_t *err =
        json_pack("{sI sI sI sI sI sI sI sI sI}", "http_400", (json_int_t)st.http_400, "http_429",
                  (json_int_t)st.http_429, "http_4xx_other", (json_int_t)st.http_4xx, "http_5xx",
                  (json_int_t)st.http_5xx, "refused_handshake", (json_int_t)st.refused_handshake,
                  "closed", (json_int_t)st.closed, "connect_failed", (json_int_t)st.connect_failed,
                  "bad_answer", (json_int_t)st.bad_answer, "unanswered", (json_int_t)unanswered);
    uint64_t nerr = st.http_400 + st.http_429 + st.http_4xx + st.http_5xx + st.refused_handshake +
                    st.closed + st.connect_failed + st.bad_answer + (uint64_t)unanswered;
    json_t *out = json_pack(
        "{ss ss si si si si si sf sI si si sI sI sI sI sf sI sI so sI so}", "tool", "ingest_load",
        "protocol", proto_names[opt.proto], "devices", opt.devices, "connections", nconns,
        "records_per_report", opt.proto == P_TELTONIKA ? opt.records : 1, "io_elements",
        opt.proto == P_TELTONIKA ? opt.io : 0, "limit_per_device", opt.limit, "rate_per_device",
        opt.rate, "offered_per_s", (json_int_t)offered, "warmup_s", opt.warmup, "seconds",
        opt.seconds, "reports_sent", (json_int_t)st.sent, "positions_sent",
        (json_int_t)st.sent_positions, "acked_total", (json_int_t)st.acked_all, "acked",
        (json_int_t)st.acked, "rate", round(st.acked * 10.0 / opt.seconds) / 10, "per_second_min",
        (json_int_t)(opt.seconds ? smin : 0), "per_second_max", (json_int_t)smax, "latency", lat,
        "errors_total", (json_int_t)nerr, "errors", err);
    if (!out)
        die("out of memory");
    /* The measured window on the wall clock, to compare with the store's received_us. */
    if (json_object_set_new(out, "window_start_us",
                            json_integer((json_int_t)(real0 + t_measure - t0))) ||
        json_object_set_new(out, "window_end_us", json_integer((json_int_t)(real0 + t_stop - t0))))
        die("out of memory");
    if (opt.stream_port &&
        json_object_set_new(out, "stream",
                            json_pack("{sI sI sI so}", "messages", (json_int_t)ws.messages,
                                      "positions", (json_int_t)ws.positions, "matched",
                                      (json_int_t)ws.matched, "latency", samples_summary(&ws.lat))))
        die("out of memory");
    char *line = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (!line)
        die("out of memory");
    puts(line);
    free(line);
    json_decref(out);
}

/* ------------------------------------------------------------- setup */

/*
 * One request on the thread's blocking keep-alive connection *fd (opened
 * when -1, closed on error). Returns the status, -1 on a transport error;
 * the body (NUL-terminated) in body[bodysz] if body is not NULL.
 */
static int http_call(int port, int *fd, const char *method, const char *path, const char *token,
                     const char *json, char *body, size_t bodysz)
{
    struct sockaddr_in addr = server_addr;
    addr.sin_port = htons((uint16_t)port);
    char req[REQ_MAX];
    char auth[512] = "";
    if (token)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
    int len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%sContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       method, path, opt.host, port, auth, strlen(json), json);
    if (len < 0 || (size_t)len >= sizeof(req))
        return -1;
    if (*fd < 0) {
        *fd = tcp_socket(false);
        struct timeval tv = {30, 0};
        if (*fd < 0 || setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
            connect(*fd, (struct sockaddr *)&addr, sizeof(addr)))
            goto fail;
    }
    for (size_t off = 0; off < (size_t)len;) {
        ssize_t n = send(*fd, req + off, (size_t)len - off, MSG_NOSIGNAL);
        if (n <= 0)
            goto fail;
        off += (size_t)n;
    }
    char buf[16384];
    size_t got = 0;
    struct resp r;
    int rc;
    while ((rc = resp_parse(buf, got, sizeof(buf), &r)) == 0) {
        ssize_t n = recv(*fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0)
            goto fail;
        got += (size_t)n;
    }
    if (rc < 0)
        goto fail;
    if (body && bodysz) {
        size_t n = r.body_len < bodysz - 1 ? r.body_len : bodysz - 1;
        memcpy(body, buf + r.body_off, n);
        body[n] = '\0';
    }
    if (r.close) {
        close(*fd);
        *fd = -1;
    }
    return r.status;
fail:
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    return -1;
}

static struct {
    char token[512];
    int next;   /* the next job, taken atomically */
    int njobs;  /* units, or devices */
    bool units; /* which of the two */
    int failed;
    char why[1024];
} setup;

static void *setup_worker(void *arg)
{
    (void)arg;
    int fd = -1;
    for (;;) {
        int j = __atomic_fetch_add(&setup.next, 1, __ATOMIC_RELAXED);
        if (j >= setup.njobs || __atomic_load_n(&setup.failed, __ATOMIC_RELAXED))
            break;
        char json[256], unit[32], dev[DEVICE_SZ], body[512] = "";
        int status;
        snprintf(unit, sizeof(unit), "BENCH-%04d", (setup.units ? j : j % opt.units) + 1);
        if (setup.units) {
            snprintf(json, sizeof(json), "{\"callsign\":\"%s\",\"kind\":\"car_patrol\"}", unit);
            status = http_call(opt.port, &fd, "POST", "/api/v1/units", setup.token, json, body,
                               sizeof(body));
            if (status == 201 || status == 409) /* made, or there from an earlier run */
                continue;
        } else {
            device_name(j, dev, sizeof(dev));
            snprintf(json, sizeof(json), "{\"device\":\"%s\",\"protocol\":\"%s\",\"unit\":\"%s\"}",
                     dev, opt.setup, unit);
            status = http_call(opt.port, &fd, "POST", "/api/v1/devices", setup.token, json, body,
                               sizeof(body));
            if (status == 201)
                continue;
        }
        if (!__atomic_exchange_n(&setup.failed, 1, __ATOMIC_ACQ_REL))
            snprintf(setup.why, sizeof(setup.why), "%s: status %d: %.400s", json, status, body);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void setup_run(bool units, int njobs)
{
    enum { THREADS = 16 };
    pthread_t th[THREADS];
    setup.units = units;
    setup.njobs = njobs;
    setup.next = 0;
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, setup_worker, NULL))
            die("cannot start a thread");
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    if (setup.failed)
        die("setup failed: %s", setup.why);
}

static void run_setup(void)
{
    if (strcmp(opt.setup, "osmand") == 0)
        opt.proto = P_OSMAND;
    else if (strcmp(opt.setup, "teltonika") == 0)
        opt.proto = P_TELTONIKA;
    else if (strcmp(opt.setup, "mqtt") == 0)
        opt.proto = P_MQTT;
    else
        die("--setup takes osmand, teltonika or mqtt");
    int64_t start = mono_us();
    char json[512], body[2048];
    json_t *cred = json_pack("{ss ss}", "username", opt.user, "password", opt.password);
    char *cs = cred ? json_dumps(cred, JSON_COMPACT) : NULL;
    json_decref(cred);
    if (!cs || snprintf(json, sizeof(json), "%s", cs) >= (int)sizeof(json))
        die("bad credentials");
    free(cs);
    int fd = -1;
    int status =
        http_call(opt.port, &fd, "POST", "/api/v1/auth/login", NULL, json, body, sizeof(body));
    if (fd >= 0)
        close(fd);
    json_t *ans = status == 200 ? json_loads(body, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(ans, "token"));
    if (!tok || snprintf(setup.token, sizeof(setup.token), "%s", tok) >= (int)sizeof(setup.token))
        die("cannot log in as %s: status %d: %.300s", opt.user, status, body);
    json_decref(ans);
    setup_run(true, opt.units);
    setup_run(false, opt.devices);
    json_t *out =
        json_pack("{ss ss si si sf}", "tool", "ingest_load", "setup", opt.setup, "units", opt.units,
                  "devices", opt.devices, "seconds", round((mono_us() - start) / 1e5) / 10);
    char *line = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    if (!line)
        die("out of memory");
    puts(line);
    free(line);
    json_decref(out);
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fputs("usage: ingest_load --protocol osmand|teltonika|mqtt --port P [options]\n"
          "       ingest_load --setup osmand|teltonika|mqtt --port API_PORT [--units N] "
          "[--devices D]\n"
          "  --host A             server address (127.0.0.1)\n"
          "  --port P             the OsmAnd or Teltonika port (with --setup: the API port)\n"
          "  --devices N          devices (2000); Teltonika opens one connection each\n"
          "  --connections C      OsmAnd keep-alive connections (500, at most the devices)\n"
          "  --records R          Teltonika records per packet (10, at most 255)\n"
          "  --io N               Teltonika IO elements per record (7, at most 7)\n"
          "  --rate-per-device X  positions per second per device (10)\n"
          "  --limit L            amaned's positions per device and second (20)\n"
          "  --seconds S          the measured part (20)\n"
          "  --warmup S           seconds of the same load before it, not counted (3)\n"
          "  --drain S            how long to wait for the last answers (5)\n"
          "  --acked FILE         write device,time_us of every acknowledged position\n"
          "  --units N            with --setup: units BENCH-0001... to make (100)\n"
          "  --user U --password P  with --setup: the admin account\n"
          "  --stream-port P      the API port: also measure report -> WebSocket stream latency\n"
          "                       (/api/v1/stream, avl.positions; --units must be the setup's)\n"
          "  --stream-user U --stream-password P  who watches the stream (dispatcher)\n",
          f);
}

int main(int argc, char **argv)
{
    bench_prog = "ingest_load";
    static const struct option longopts[] = {
        {"protocol", required_argument, NULL, 'P'},
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"devices", required_argument, NULL, 'd'},
        {"connections", required_argument, NULL, 'c'},
        {"records", required_argument, NULL, 'r'},
        {"io", required_argument, NULL, 'i'},
        {"rate-per-device", required_argument, NULL, 'R'},
        {"limit", required_argument, NULL, 'l'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"drain", required_argument, NULL, 'D'},
        {"acked", required_argument, NULL, 'a'},
        {"setup", required_argument, NULL, 'S'},
        {"units", required_argument, NULL, 'u'},
        {"user", required_argument, NULL, 'U'},
        {"password", required_argument, NULL, 'W'},
        {"stream-port", required_argument, NULL, 'T'},
        {"stream-user", required_argument, NULL, 'V'},
        {"stream-password", required_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    bool have_proto = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'P':
            if (strcmp(optarg, "osmand") == 0)
                opt.proto = P_OSMAND;
            else if (strcmp(optarg, "teltonika") == 0)
                opt.proto = P_TELTONIKA;
            else if (strcmp(optarg, "mqtt") == 0)
                opt.proto = P_MQTT;
            else
                die("--protocol takes osmand, teltonika or mqtt");
            have_proto = true;
            break;
        case 'h':
            opt.host = optarg;
            break;
        case 'p':
            opt.port = int_arg("port", optarg, 1, 65535);
            break;
        case 'd':
            opt.devices = int_arg("devices", optarg, 1, MAX_DEVICES);
            break;
        case 'c':
            opt.conns = int_arg("connections", optarg, 1, MAX_CONNS);
            break;
        case 'r':
            opt.records = int_arg("records", optarg, 1, MAX_RECORDS);
            break;
        case 'i':
            opt.io = int_arg("io", optarg, 0, IO_SET_N);
            break;
        case 'R': {
            char *end;
            opt.rate = strtod(optarg, &end);
            if (end == optarg || *end || !(opt.rate > 0 && opt.rate <= 1000))
                die("--rate-per-device: '%s' is not a number in (0, 1000]", optarg);
            break;
        }
        case 'l':
            opt.limit = int_arg("limit", optarg, 1, 1000000);
            break;
        case 's':
            opt.seconds = int_arg("seconds", optarg, 1, 3600);
            break;
        case 'w':
            opt.warmup = int_arg("warmup", optarg, 0, 3600);
            break;
        case 'D':
            opt.drain = int_arg("drain", optarg, 0, 600);
            break;
        case 'a':
            opt.acked_path = optarg;
            break;
        case 'S':
            opt.setup = optarg;
            break;
        case 'u':
            opt.units = int_arg("units", optarg, 1, 9999);
            break;
        case 'U':
            opt.user = optarg;
            break;
        case 'W':
            opt.password = optarg;
            break;
        case 'T':
            opt.stream_port = int_arg("stream-port", optarg, 1, 65535);
            break;
        case 'V':
            opt.stream_user = optarg;
            break;
        case 'X':
            opt.stream_password = optarg;
            break;
        case 'H':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    if (!opt.port)
        die("--port is required");
    if (!opt.setup && !have_proto)
        die("--protocol or --setup is required");
    signal(SIGPIPE, SIG_IGN);
    resolve();
    if (opt.setup)
        run_setup();
    else
        run_load();
    return 0;
}
