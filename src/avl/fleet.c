/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fleet.c - the field link's service: the registry that binds each device
 * to a unit, the intake of fixes from every listener (unknown devices and
 * floods refused and counted), each unit's latest position in memory, and
 * the trail written in batches by one thread. A batch is one store command:
 * the positions go into avl_positions and each unit's newest one into its
 * row (cad_unit_position_apply, which snaps it to the road for
 * recommendations); the listeners acknowledge a fix to its device only once
 * its batch is durable, so a crash never loses an acknowledged position.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avl/avl_int.h"
#include "cad/cad.h"
#include "core/core.h"
#include "http/http.h"
#include "store/store.h"

const struct store_migration avl_migrations[] = {
    {"avl", 1,
     "CREATE TABLE avl_devices ("
     "  device TEXT PRIMARY KEY,"
     "  protocol TEXT NOT NULL,"
     "  unit TEXT NOT NULL,"
     "  since_us INTEGER NOT NULL,"
     "  bound_by TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE avl_positions ("
     "  id INTEGER PRIMARY KEY,"
     "  unit TEXT NOT NULL,"
     "  device TEXT NOT NULL,"
     "  time_us INTEGER NOT NULL,"
     "  received_us INTEGER NOT NULL,"
     "  lat REAL NOT NULL, lon REAL NOT NULL,"
     "  speed_mps REAL, heading REAL, altitude REAL, accuracy REAL, satellites INTEGER,"
     "  attrs TEXT);"
     "CREATE INDEX avl_positions_unit_time ON avl_positions(unit, time_us);"},
    /* A tracker resends a packet that was not acknowledged: one position per device and time. */
    {"avl", 2, "CREATE UNIQUE INDEX avl_positions_device_time ON avl_positions(device, time_us);"},
    /* Geofences (geofence.c): a polygon (GeoJSON geometry) or a circle, fixed or around a unit. */
    {"avl", 3,
     "CREATE TABLE avl_geofences (id INTEGER PRIMARY KEY, name TEXT NOT NULL, geometry TEXT,"
     " lat REAL, lon REAL, radius_m REAL, follows TEXT, created_us INTEGER NOT NULL,"
     " created_by TEXT NOT NULL);"
     "CREATE TABLE avl_geofence_inside (geofence_id INTEGER NOT NULL, unit TEXT NOT NULL,"
     " PRIMARY KEY (geofence_id, unit)) WITHOUT ROWID;"},
    /*
     * The trail clustered by time: a batch is the positions of the last moments of every
     * device, so keyed (time_us, device) it lands on the few pages at the end of the table,
     * where the rowid table and its (device, time_us) index spread it over one page per
     * device (bench/ingest: 1.8 to 2.4 KB written per 150-byte position). The key keeps one
     * position per device and time; the trail reads (unit, time_us).
     */
    {"avl", 4,
     "CREATE TABLE avl_positions_by_time ("
     "  time_us INTEGER NOT NULL,"
     "  device TEXT NOT NULL,"
     "  unit TEXT NOT NULL,"
     "  received_us INTEGER NOT NULL,"
     "  lat REAL NOT NULL, lon REAL NOT NULL,"
     "  speed_mps REAL, heading REAL, altitude REAL, accuracy REAL, satellites INTEGER,"
     "  attrs TEXT,"
     "  PRIMARY KEY (time_us, device)) WITHOUT ROWID;"
     "INSERT INTO avl_positions_by_time(time_us, device, unit, received_us, lat, lon, speed_mps,"
     "  heading, altitude, accuracy, satellites, attrs)"
     "  SELECT time_us, device, unit, received_us, lat, lon, speed_mps, heading, altitude,"
     "  accuracy, satellites, attrs FROM avl_positions ORDER BY time_us, device;"
     "DROP TABLE avl_positions;"
     "ALTER TABLE avl_positions_by_time RENAME TO avl_positions;"
     "CREATE INDEX avl_positions_unit_time ON avl_positions(unit, time_us);"},
};
const size_t avl_nmigrations = sizeof(avl_migrations) / sizeof(avl_migrations[0]);

static const char *const protocol_names[AVL_PROTOCOL_COUNT] = {"osmand", "teltonika", "mqtt"};

const char *avl_protocol_name(int p)
{
    return p >= 0 && p < AVL_PROTOCOL_COUNT ? protocol_names[p] : NULL;
}

int avl_protocol_parse(const char *s)
{
    for (int p = 0; s && p < AVL_PROTOCOL_COUNT; p++)
        if (strcmp(s, protocol_names[p]) == 0)
            return p;
    return -1;
}

/* ---------------------------------------------------------------- registry */

struct device {
    struct device *next; /* in its hash bucket */
    char id[AVL_DEVICE_SZ];
    char unit[32];
    int protocol;
    int64_t window_s; /* the second the rate count is for */
    int count;        /* fixes kept in that second */
};

/* A position waiting for its batch. */
struct pending {
    char unit[32];
    char device[AVL_DEVICE_SZ];
    int64_t time_us, received_us;
    double lat, lon, speed_mps, heading_deg, altitude_m, accuracy_m;
    int satellites;
    char *attrs; /* JSON text or NULL */
};

struct waiter {
    avl_done_fn fn;
    void *arg;
};

struct batch {
    struct store_cmd cmd; /* first member: the command's done gets the batch */
    struct avl *avl;
    struct pending *rows;
    size_t n, cap;
    struct waiter *waiters;
    size_t nw, capw;
};

static struct am_counter c_fixes = {"amane_avl_fixes_total", "Fixes accepted", NULL, 0, NULL};
static struct am_counter c_unknown = {"amane_avl_unknown_device_total",
                                      "Fixes refused: device not registered", NULL, 0, NULL};
static struct am_counter c_flood = {"amane_avl_dropped_total",
                                    "Fixes dropped: a device over its rate, or too many waiting",
                                    NULL, 0, NULL};
static struct am_counter c_batches = {"amane_avl_batches_total", "Trail batches written", NULL, 0,
                                      NULL};
static struct am_counter c_grid_failed = {"amane_avl_grid_failed_total",
                                          "Positions not kept in the spatial grid (out of memory)",
                                          NULL, 0, NULL};

/* Cells of the units' spatial grid: about a city block. */
#define GRID_CELL_M 500
static int grid_seed(struct avl *a, struct cad *cad);

static uint64_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct device *device_find(struct avl *a, const char *id)
{
    for (struct device *d = a->buckets[hash(id) & (a->nbuckets - 1)]; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    return NULL;
}

static int device_put(struct avl *a, const char *id, int protocol, const char *unit)
{
    struct device *d = device_find(a, id);
    if (!d) {
        if (a->ndevices + 1 > a->nbuckets) { /* keep the load factor under 1 */
            size_t nb = a->nbuckets * 2;
            struct device **b = calloc(nb, sizeof(*b));
            if (!b)
                return AM_ENOMEM;
            for (size_t i = 0; i < a->nbuckets; i++)
                for (struct device *x = a->buckets[i], *next; x; x = next) {
                    next = x->next;
                    size_t k = hash(x->id) & (nb - 1);
                    x->next = b[k];
                    b[k] = x;
                }
            free(a->buckets);
            a->buckets = b;
            a->nbuckets = nb;
        }
        d = calloc(1, sizeof(*d));
        if (!d)
            return AM_ENOMEM;
        am_strlcpy(d->id, id, sizeof(d->id));
        size_t k = hash(id) & (a->nbuckets - 1);
        d->next = a->buckets[k];
        a->buckets[k] = d;
        a->ndevices++;
    }
    d->protocol = protocol;
    am_strlcpy(d->unit, unit, sizeof(d->unit));
    return 0;
}

static void device_remove(struct avl *a, const char *id)
{
    for (struct device **p = &a->buckets[hash(id) & (a->nbuckets - 1)]; *p; p = &(*p)->next)
        if (strcmp((*p)->id, id) == 0) {
            struct device *d = *p;
            *p = d->next;
            free(d);
            a->ndevices--;
            return;
        }
}

static int load_row(struct store_row *r, void *arg)
{
    struct avl *a = arg;
    int p = avl_protocol_parse(store_row_text(r, 1));
    return p < 0 ? 0 : device_put(a, store_row_text(r, 0), p, store_row_text(r, 2));
}

static int load_fences(struct store_conn *c, void *arg)
{
    return avl_fences_load(c, arg);
}

static int load_devices(struct store_conn *c, void *arg)
{
    return store_query(c, "SELECT device, protocol, unit FROM avl_devices", load_row, arg, NULL);
}

bool avl_device_registered(struct avl *a, const char *device, enum avl_protocol p)
{
    pthread_mutex_lock(&a->mu);
    struct device *d = device_find(a, device);
    bool ok = d && d->protocol == (int)p;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

size_t avl_devices_of(struct avl *a, const char *unit, enum avl_protocol p,
                      char (*out)[AVL_DEVICE_SZ], size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->nbuckets; i++)
        for (struct device *d = a->buckets[i]; d && n < max; d = d->next)
            if (d->protocol == (int)p && strcmp(d->unit, unit) == 0)
                am_strlcpy(out[n++], d->id, AVL_DEVICE_SZ);
    pthread_mutex_unlock(&a->mu);
    return n;
}

/* ---------------------------------------------------------------- live positions */

/*
 * The stream's pace: each unit at most twice a second (LIVE_UNIT_US; a
 * newer position waits for its turn, looked at every LIVE_TELL_US), the
 * clients told of a change at most every LIVE_TELL_US and sent a message
 * at most every LIVE_CLIENT_MS, so that a position reaches the consoles
 * within tens of milliseconds without a wake-up of the event loop per
 * report.
 */
#define LIVE_UNIT_US   500000
#define LIVE_TELL_US   10000
#define LIVE_CLIENT_MS 25

/* Publishes a unit's position to the stream (a->mu held). */
static void live_publish(struct avl *a, struct live_unit *u, int64_t now)
{
    u->gen = ++a->live_gen;
    u->gen_us = now;
    if (u->deferred) {
        struct live_unit *last = a->deferred[--a->ndeferred];
        a->deferred[u->dslot] = last;
        last->dslot = u->dslot;
        u->deferred = false;
    }
}

/* Tells the stream of new positions, at most every LIVE_TELL_US (a->mu held). */
static void live_tell(struct avl *a, int64_t now)
{
    if (a->srv && a->live_told != a->live_gen && now - a->live_told_us >= LIVE_TELL_US) {
        a->live_told = a->live_gen;
        a->live_told_us = now;
        http_stream_live_changed(a->srv);
    }
}

/* Publishes the deferred positions whose unit may be shown again (a->mu held). */
static void live_sweep(struct avl *a, int64_t now)
{
    for (size_t i = 0; i < a->ndeferred;) {
        struct live_unit *u = a->deferred[i];
        if (now - u->gen_us >= LIVE_UNIT_US)
            live_publish(a, u, now); /* moves the last one here */
        else
            i++;
    }
}

/* Keeps the unit's newest position for the stream; called with a->mu held. */
static void live_put(struct avl *a, const char *unit, const struct avl_fix *f)
{
    if (!a->live)
        return;
    size_t k = hash(unit) & (a->nlive_buckets - 1);
    struct live_unit *u = a->live[k];
    while (u && strcmp(u->unit, unit) != 0)
        u = u->next;
    if (!u) {
        u = calloc(1, sizeof(*u));
        if (!u)
            return; /* the stream misses this one; the trail has it */
        am_strlcpy(u->unit, unit, sizeof(u->unit));
        u->next = a->live[k];
        a->live[k] = u;
    } else if (u->time_us > f->time_us) {
        return; /* an older fix arriving late */
    }
    u->time_us = f->time_us;
    u->lat = f->lat;
    u->lon = f->lon;
    u->speed_mps = f->speed_mps;
    u->heading_deg = f->heading_deg;
    if (avl_grid_move(&a->grid, unit, f->lat, f->lon, f->time_us))
        am_counter_add(&c_grid_failed, 1); /* out of memory: "near" misses this unit */
    int64_t now = am_mono_us();
    if (!u->gen || now - u->gen_us >= LIVE_UNIT_US) {
        live_publish(a, u, now);
        live_tell(a, now);
    } else if (!u->deferred) {
        if (am_grow(&a->deferred, &a->cap_deferred, a->ndeferred + 1, sizeof(*a->deferred), 64))
            return; /* out of memory: shown with the unit's next position */
        u->deferred = true;
        u->dslot = a->ndeferred;
        a->deferred[a->ndeferred++] = u;
    }
}

int avl_live_position(struct avl *a, const char *unit, double *lat, double *lon)
{
    struct live_unit *u = a->live ? a->live[hash(unit) & (a->nlive_buckets - 1)] : NULL;
    while (u && strcmp(u->unit, unit) != 0)
        u = u->next;
    if (!u)
        return AM_ENOTFOUND;
    *lat = u->lat;
    *lon = u->lon;
    return 0;
}

static int64_t live_render(void *arg, int64_t since, enum am_role role, struct am_buf *out)
{
    struct avl *a = arg;
    bool may = role == AM_ROLE_ADMIN || role == AM_ROLE_SUPERVISOR || role == AM_ROLE_DISPATCHER ||
               role == AM_ROLE_PATROL;
    pthread_mutex_lock(&a->mu);
    int64_t gen = a->live_gen;
    size_t n = 0;
    for (size_t i = 0; may && i < a->nlive_buckets; i++)
        for (struct live_unit *u = a->live[i]; u; u = u->next) {
            if (u->gen <= since)
                continue;
            char ts[AM_TIME_BUFSZ];
            int rc =
                am_buf_printf(out, "%s{\"unit\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"time\":\"%s\"",
                              n++ ? "," : "{\"type\":\"avl.positions\",\"units\":[", u->unit,
                              u->lat, u->lon, am_time_fmt(u->time_us, ts, sizeof(ts)));
            if (!rc && !isnan(u->speed_mps))
                rc = am_buf_printf(out, ",\"speed_mps\":%.2f", u->speed_mps);
            if (!rc && !isnan(u->heading_deg))
                rc = am_buf_printf(out, ",\"heading\":%.1f", u->heading_deg);
            if (!rc)
                rc = am_buf_append(out, "}", 1);
            if (rc) {
                out->len = 0; /* too big to send: skip this round */
                n = 0;
                goto done;
            }
        }
    if (n && am_buf_append(out, "]}", 2))
        out->len = 0;
done:
    pthread_mutex_unlock(&a->mu);
    return gen;
}

void avl_stream(struct avl *a, struct http_server *srv)
{
    a->srv = srv;
    http_stream_live(srv, live_render, a, LIVE_CLIENT_MS);
}

/* ---------------------------------------------------------------- batches */

/* Empties a batch, keeping its arrays. */
static void batch_clear(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->rows[i].attrs);
    b->n = b->nw = 0;
    free(b->cmd.answer);
    b->cmd.answer = NULL;
}

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    batch_clear(b);
    free(b->rows);
    free(b->waiters);
    free(b);
}

static int newest_first(const void *x, const void *y)
{
    const struct pending *a = *(const struct pending *const *)x,
                         *b = *(const struct pending *const *)y;
    int c = strcmp(a->unit, b->unit);
    if (c)
        return c;
    return a->time_us > b->time_us ? -1 : a->time_us < b->time_us;
}

static int batch_apply(struct store_conn *c, struct store_cmd *cmd)
{
    struct batch *b = (struct batch *)cmd;
    int rc = 0;
    for (size_t i = 0; i < b->n && !rc; i++) {
        const struct pending *p = &b->rows[i];
        rc = store_exec(
            c,
            "INSERT OR IGNORE INTO avl_positions(unit, device, time_us, received_us, lat, lon,"
            " speed_mps, heading, altitude, accuracy, satellites, attrs)"
            " VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, -1e300), NULLIF(?, -1e300),"
            " NULLIF(?, -1e300), NULLIF(?, -1e300), NULLIF(?, -1), ?)",
            "ttiiddddddit", p->unit, p->device, p->time_us, p->received_us, p->lat, p->lon,
            isnan(p->speed_mps) ? -1e300 : p->speed_mps,
            isnan(p->heading_deg) ? -1e300 : p->heading_deg,
            isnan(p->altitude_m) ? -1e300 : p->altitude_m,
            isnan(p->accuracy_m) ? -1e300 : p->accuracy_m, (int64_t)p->satellites, p->attrs);
    }
    if (rc || b->n == 0)
        return rc;
    /* Each unit's newest position of the batch becomes its last known one. */
    const struct pending **order = malloc(b->n * sizeof(*order));
    if (!order)
        return AM_ENOMEM;
    for (size_t i = 0; i < b->n; i++)
        order[i] = &b->rows[i];
    qsort(order, b->n, sizeof(*order), newest_first);
    for (size_t i = 0; i < b->n && !rc; i++) {
        if (i > 0 && strcmp(order[i]->unit, order[i - 1]->unit) == 0)
            continue;
        rc = cad_unit_position_apply(b->avl->cad, c, order[i]->unit, order[i]->lat, order[i]->lon,
                                     order[i]->time_us, NULL);
        if (rc == AM_ENOTFOUND) /* the unit went away since its device was bound */
            rc = 0;
        if (!rc)
            rc = avl_fences_apply(b->avl, c, cmd, order[i]->unit, order[i]->lat, order[i]->lon,
                                  order[i]->time_us);
    }
    free(order);
    return rc;
}

static void batch_done(struct store_cmd *cmd)
{
    struct batch *b = (struct batch *)cmd;
    if (cmd->rc)
        am_error("avl", "cannot write a trail batch", "positions=%zu err=\"%s\"", b->n,
                 am_strerror(cmd->rc));
    else
        am_counter_add(&c_batches, 1);
    for (size_t i = 0; i < b->nw; i++)
        b->waiters[i].fn(b->waiters[i].arg, cmd->rc);
    struct avl *a = b->avl;
    /* Kept for the next batch: its arrays, grown to a batch's size, are not allocated and
     * faulted in again for every batch. */
    batch_clear(b);
    pthread_mutex_lock(&a->mu);
    if (!a->spare) {
        a->spare = b;
        b = NULL;
    }
    /* The writer is free: the positions that came meanwhile can go at once. */
    a->inflight--;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    batch_free(b);
}

/* A batch for the intake: the spare one if there is one; called with a->mu held. */
static struct batch *batch_new(struct avl *a)
{
    struct batch *b = a->spare;
    if (b) {
        a->spare = NULL;
        b->cmd = (struct store_cmd){0};
    } else if (!(b = calloc(1, sizeof(*b)))) {
        return NULL;
    }
    b->avl = a;
    b->cmd.apply = batch_apply;
    b->cmd.actor = "avl";
    b->cmd.done = batch_done;
    return b;
}

/* Hands the open batch to the store; called with a->mu held. */
static void flush_locked(struct avl *a)
{
    struct batch *b = a->open;
    if (!b || b->n == 0)
        return;
    a->open = NULL;
    a->inflight++;
    pthread_mutex_unlock(&a->mu);
    int rc = store_submit(a->st, &b->cmd);
    if (rc) {
        b->cmd.rc = rc;
        batch_done(&b->cmd);
    }
    pthread_mutex_lock(&a->mu);
}

/*
 * Hands the open batch to the store as soon as the store has nothing of ours
 * in flight (so a quiet system acknowledges a report within one commit),
 * when it is full, or after flush_ms at most; while a batch commits, the
 * next one fills (group commit).
 */
static void *flusher(void *arg)
{
    struct avl *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stopping) {
        int64_t now = am_mono_us(), deadline = a->open_since_us + a->o.flush_ms * 1000LL;
        bool pending = a->open && a->open->n;
        bool go = pending &&
                  (a->inflight == 0 || a->open->n >= (size_t)a->o.max_batch || now >= deadline);
        live_sweep(a, now);
        live_tell(a, now);
        if (!go) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long wait_ms = pending ? (long)((deadline - now) / 1000) + 1 : a->o.flush_ms;
            /* Positions not told or not published yet: look again soon. */
            if ((a->live_told != a->live_gen || a->ndeferred) && wait_ms > LIVE_TELL_US / 1000)
                wait_ms = LIVE_TELL_US / 1000;
            ts.tv_nsec += wait_ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
            continue;
        }
        flush_locked(a);
    }
    flush_locked(a);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---------------------------------------------------------------- intake */

int avl_ingest(struct avl *a, enum avl_protocol p, struct avl_fix *fix, avl_done_fn done, void *arg)
{
    char *attrs = NULL;
    if (fix->attrs && json_object_size(fix->attrs))
        attrs = json_dumps(fix->attrs, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    avl_fix_release(fix);
    int64_t now = am_now_us();
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    struct device *d = device_find(a, fix->device);
    if (!d || d->protocol != (int)p) {
        rc = AM_ENOTFOUND;
        am_counter_add(&c_unknown, 1);
        goto out;
    }
    int64_t sec = now / 1000000;
    if (d->window_s != sec) {
        d->window_s = sec;
        d->count = 0;
    }
    /* A tracker sends its buffered records in packets of up to 255, paced by our
     * acknowledgements: the rate limit is for protocols of one position per message. */
    bool limited = p != AVL_TELTONIKA && d->count >= a->o.max_rate;
    if (limited || (a->open && a->open->n >= (size_t)a->o.max_pending)) {
        rc = AM_EBUSY;
        am_counter_add(&c_flood, 1);
        goto out;
    }
    if (!a->open && !(a->open = batch_new(a))) {
        rc = AM_ENOMEM;
        goto out;
    }
    struct batch *b = a->open;
    if (am_grow(&b->rows, &b->cap, b->n + 1, sizeof(*b->rows), 1024) ||
        (done && am_grow(&b->waiters, &b->capw, b->nw + 1, sizeof(*b->waiters), 1024))) {
        rc = AM_ENOMEM;
        goto out;
    }
    struct pending *row = &b->rows[b->n++];
    am_strlcpy(row->unit, d->unit, sizeof(row->unit));
    am_strlcpy(row->device, fix->device, sizeof(row->device));
    row->time_us = fix->time_us;
    row->received_us = now;
    row->lat = fix->lat;
    row->lon = fix->lon;
    row->speed_mps = fix->speed_mps;
    row->heading_deg = fix->heading_deg;
    row->altitude_m = fix->altitude_m;
    row->accuracy_m = fix->accuracy_m;
    row->satellites = fix->satellites;
    row->attrs = attrs;
    attrs = NULL;
    if (done)
        b->waiters[b->nw++] = (struct waiter){done, arg};
    live_put(a, d->unit, fix);
    d->count++;
    am_counter_add(&c_fixes, 1);
    if (b->n == 1)
        a->open_since_us = am_mono_us();
    if ((b->n == 1 && a->inflight == 0) || b->n >= (size_t)a->o.max_batch)
        pthread_cond_signal(&a->cv);
out:
    pthread_mutex_unlock(&a->mu);
    free(attrs);
    return rc;
}

/* ---------------------------------------------------------------- life cycle */

int avl_new(struct avl **out, struct store *st, struct cad *cad, const struct avl_opts *o)
{
    static bool registered;
    if (!registered) {
        registered = true;
        am_counter_register(&c_fixes);
        am_counter_register(&c_unknown);
        am_counter_register(&c_flood);
        am_counter_register(&c_batches);
        am_counter_register(&c_grid_failed);
    }
    struct avl *a = calloc(1, sizeof(*a));
    if (!a)
        return AM_ENOMEM;
    a->st = st;
    a->cad = cad;
    if (o)
        a->o = *o;
    if (a->o.flush_ms <= 0)
        a->o.flush_ms = 200;
    if (a->o.max_batch <= 0)
        a->o.max_batch = 8192;
    if (a->o.max_pending <= 0)
        a->o.max_pending = 200000;
    if (a->o.max_rate <= 0)
        a->o.max_rate = 20;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->nbuckets = 256;
    a->buckets = calloc(a->nbuckets, sizeof(*a->buckets));
    a->nlive_buckets = 1024;
    a->live = calloc(a->nlive_buckets, sizeof(*a->live));
    int rc = avl_grid_init(&a->grid, GRID_CELL_M);
    if (!rc)
        rc = a->buckets ? store_read(st, load_devices, a) : AM_ENOMEM;
    if (!rc && cad)
        rc = grid_seed(a, cad);
    if (!rc)
        rc = store_read(st, load_fences, &a->fences);
    if (rc) {
        avl_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* The units' last known positions (the CAD's) in the grid at start. */
static int grid_seed(struct avl *a, struct cad *cad)
{
    json_t *units = NULL, *u;
    size_t i;
    int rc = cad_unit_list(cad, &units);
    json_array_foreach(units, i, u)
    {
        json_t *p = json_object_get(u, "position");
        int64_t at = 0;
        if (rc || !json_is_object(p) ||
            am_time_parse(json_string_value(json_object_get(p, "at")), &at))
            continue;
        rc = avl_grid_move(&a->grid, json_string_value(json_object_get(u, "callsign")),
                           json_number_value(json_object_get(p, "lat")),
                           json_number_value(json_object_get(p, "lon")), at);
        rc = rc == AM_EINVAL ? 0 : rc;
    }
    json_decref(units);
    return rc;
}

int avl_units_near(struct avl *a, double lat, double lon, double radius_m, size_t max, json_t **out)
{
    struct avl_grid_hit *hits = calloc(max ? max : 1, sizeof(*hits));
    json_t *items = json_array();
    if (!hits || !items) {
        free(hits);
        json_decref(items);
        return AM_ENOMEM;
    }
    size_t n = 0;
    pthread_mutex_lock(&a->mu);
    int rc = avl_grid_near(&a->grid, lat, lon, radius_m, max, hits, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char ts[AM_TIME_BUFSZ];
        const struct avl_grid_unit *u = hits[i].u;
        if (json_array_append_new(items, json_pack("{ss sf sf ss sf}", "unit", u->unit, "lat",
                                                   u->lat, "lon", u->lon, "time",
                                                   am_time_fmt(u->time_us, ts, sizeof(ts)),
                                                   "distance_m", round(hits[i].distance_m))))
            rc = AM_ENOMEM;
    }
    pthread_mutex_unlock(&a->mu);
    free(hits);
    if (rc) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return 0;
}

int avl_start(struct avl *a)
{
    if (pthread_create(&a->thread, NULL, flusher, a))
        return AM_ENOMEM;
    a->started = true;
    return 0;
}

void avl_free(struct avl *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->started)
        pthread_join(a->thread, NULL);
    /* The last batches: their completions (on the store's writer) still use a. */
    pthread_mutex_lock(&a->mu);
    flush_locked(a);
    while (a->inflight > 0)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < a->nbuckets && a->buckets; i++)
        for (struct device *d = a->buckets[i], *next; d; d = next) {
            next = d->next;
            free(d);
        }
    free(a->buckets);
    for (size_t i = 0; i < a->nlive_buckets && a->live; i++)
        for (struct live_unit *u = a->live[i], *next; u; u = next) {
            next = u->next;
            free(u);
        }
    free(a->live);
    free(a->deferred);
    avl_grid_free(&a->grid);
    avl_fences_free(&a->fences);
    batch_free(a->open);
    batch_free(a->spare);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

/* ---------------------------------------------------------------- registry ops */

struct device_op {
    const char *device, *protocol, *unit;
    char why[160];
};

static int device_apply(struct store_conn *c, struct store_cmd *cmd)
{
    struct device_op *op = cmd->arg;
    int rc;
    json_t *ev;
    if (op->unit) {
        rc = cad_unit_exists(c, op->unit);
        if (rc == AM_ENOTFOUND)
            snprintf(op->why, sizeof(op->why), "no unit %.31s", op->unit);
        if (rc)
            return rc;
        rc = store_exec(c,
                        "INSERT INTO avl_devices(device, protocol, unit, since_us, bound_by)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET"
                        " protocol = excluded.protocol, unit = excluded.unit,"
                        " since_us = excluded.since_us, bound_by = excluded.bound_by",
                        "tttit", op->device, op->protocol, op->unit, am_now_us(), cmd->actor);
        ev = json_pack("{ss ss ss}", "device", op->device, "protocol", op->protocol, "unit",
                       op->unit);
    } else {
        rc = store_exec(c, "DELETE FROM avl_devices WHERE device = ?", "t", op->device);
        if (!rc && store_changes(c) == 0) {
            snprintf(op->why, sizeof(op->why), "no device %.63s", op->device);
            return AM_ENOTFOUND;
        }
        ev = json_pack("{ss}", "device", op->device);
    }
    if (!rc)
        rc = ev ? store_append(c, cmd, op->unit ? "avl.device.bound" : "avl.device.unbound", ev,
                               NULL)
                : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int avl_device_set(struct avl *a, const char *actor, const char *device, const char *protocol,
                   const char *unit, char *why, size_t whysz)
{
    if (!device || strlen(device) >= AVL_DEVICE_SZ || !avl_device_id_ok(device)) {
        snprintf(why, whysz, "device must be 1 to 63 of A-Z a-z 0-9 . _ : -");
        return AM_EINVAL;
    }
    int p = unit ? avl_protocol_parse(protocol) : 0;
    if (p < 0) {
        snprintf(why, whysz, "protocol must be osmand, teltonika or mqtt");
        return AM_EINVAL;
    }
    struct device_op op = {device, protocol, unit, ""};
    struct store_cmd cmd = {.apply = device_apply, .arg = &op, .actor = actor};
    int rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (rc) {
        snprintf(why, whysz, "%s", op.why[0] ? op.why : am_strerror(rc));
        return rc;
    }
    pthread_mutex_lock(&a->mu);
    if (unit)
        rc = device_put(a, device, p, unit);
    else
        device_remove(a, device);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int list_row(struct store_row *r, void *arg)
{
    char ts[AM_TIME_BUFSZ];
    json_t *d = json_pack("{ss ss ss ss ss}", "device", store_row_text(r, 0), "protocol",
                          store_row_text(r, 1), "unit", store_row_text(r, 2), "since",
                          am_time_fmt(store_row_i64(r, 3), ts, sizeof(ts)), "bound_by",
                          store_row_text(r, 4));
    return d && !json_array_append_new(arg, d) ? 0 : AM_ENOMEM;
}

static int list_devices(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT device, protocol, unit, since_us, bound_by FROM avl_devices"
                       " ORDER BY unit, device",
                       list_row, arg, NULL);
}

int avl_device_list(struct avl *a, json_t **out)
{
    json_t *arr = json_array();
    int rc = arr ? store_read(a->st, list_devices, arr) : AM_ENOMEM;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

struct trail_read {
    const char *unit;
    int64_t from, to;
    int limit;
    json_t *points;
};

static json_t *num_or_null(struct store_row *r, int col)
{
    return store_row_null(r, col) ? json_null() : json_real(store_row_double(r, col));
}

static int trail_row(struct store_row *r, void *arg)
{
    struct trail_read *t = arg;
    char ts[AM_TIME_BUFSZ];
    json_t *p =
        json_pack("{ss sf sf so so ss}", "time", am_time_fmt(store_row_i64(r, 0), ts, sizeof(ts)),
                  "lat", store_row_double(r, 1), "lon", store_row_double(r, 2), "speed_mps",
                  num_or_null(r, 3), "heading", num_or_null(r, 4), "device", store_row_text(r, 5));
    return p && !json_array_append_new(t->points, p) ? 0 : AM_ENOMEM;
}

static int read_trail(struct store_conn *c, void *arg)
{
    struct trail_read *t = arg;
    return store_query(c,
                       "SELECT time_us, lat, lon, speed_mps, heading, device FROM avl_positions"
                       " WHERE unit = ? AND time_us >= ? AND time_us < ?"
                       " ORDER BY time_us, device LIMIT ?",
                       trail_row, t, "tiii", t->unit, t->from, t->to, (int64_t)t->limit);
}

int avl_trail(struct avl *a, const char *unit, int64_t from_us, int64_t to_us, int limit,
              json_t **out)
{
    if (limit < 1 || limit > 20000 || from_us >= to_us)
        return AM_EINVAL;
    struct trail_read t = {unit, from_us, to_us, limit, json_array()};
    int rc = t.points ? store_read(a->st, read_trail, &t) : AM_ENOMEM;
    if (rc) {
        json_decref(t.points);
        return rc;
    }
    *out = t.points;
    return 0;
}
