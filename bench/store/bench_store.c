/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bench_store.c - the store benchmark of issue 2: durable, acknowledged
 * events per second with N concurrent writer threads, one JSON line per run.
 *
 * --mode=group sends each event as one command through the store's group
 * commit (SQLite, synchronous=FULL, max_batch=512); --mode=single is the
 * same code with max_batch=1, a transaction per event; --mode=pg gives each
 * writer a libpq connection doing a prepared single-row INSERT in autocommit
 * with synchronous_commit=on, hashing the canonical row client side so both
 * sides do comparable work; --mode=fsync is the disk's yardstick, a 4 KiB
 * rewrite and fdatasync in a loop. An event counts once its writer has been
 * told it is durable. After a store run the hash chain must verify and the
 * table must hold exactly the acknowledged events, or the run fails.
 * bench/store/run.sh drives it; docs/BENCHMARKS.md has the results.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store/store.h"

#define BENCH_MAX_WRITERS 1024
#define BENCH_MAX_SECONDS 3600
#define BENCH_TYPE        "bench.event"
#define BENCH_PG_INSERT                                                                            \
    "INSERT INTO amane_bench.events(ts_us, type, actor, data, hash) VALUES ($1, $2, $3, $4, $5)"

#define BENCH_FSYNC_BLOCK 4096

enum bench_mode { BENCH_GROUP, BENCH_SINGLE, BENCH_PG, BENCH_FSYNC, BENCH_ASYNC };

static const char *const bench_mode_names[] = {"group", "single", "pg", "fsync", "async"};

struct bench_opts {
    enum bench_mode mode;
    int writers;
    int seconds;
    const char *dir;      /* where the SQLite (or fsync probe) files are made */
    const char *conninfo; /* libpq connection string (pg) */
    bool keep;            /* keep the SQLite file afterwards */
};

/* The argument of one command: the event's data, and the seq it got. */
struct bench_append {
    const json_t *data;
    int64_t seq;
};

struct bench;

/* One writer thread and what it measured. */
struct bench_worker {
    struct bench *b;
    pthread_t thread;
    bool started;
    int id;
    char actor[32];
    PGconn *pg;
    int fd;          /* the fsync probe's file, or -1 */
    char path[4096]; /* its name */
    int64_t events;
    uint32_t *lat_us; /* store_write / PQexecPrepared latency of each acknowledged event */
    size_t nlat, caplat;
    int rc;
    char why[256];
    /* --mode=async: this writer is one command in flight, resubmitted on completion. */
    struct store_cmd cmd;
    struct bench_append append;
    json_t *data;
    int64_t t0, n;
};

struct bench {
    struct bench_opts o;
    struct store *st;
    struct bench_worker *workers;

    /* The start line: workers wait until `go` (or `abort`) is set. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go, abort;
    int64_t deadline_us;
    int async_running; /* --mode=async: commands still in flight */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_store --mode=group|single|async --dir=DIR [--writers=N] [--seconds=S] "
               "[--keep]\n"
               "       bench_store --mode=pg --conninfo=STR [--writers=N] [--seconds=S]\n"
               "       bench_store --mode=fsync --dir=DIR [--writers=N] [--seconds=S]\n");
}

static void die_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "bench_store: %s '%s'\n", msg, arg);
    usage(stderr);
    exit(2);
}

/* Matches `--name=value` or `--name value`; returns the value or NULL. */
static const char *opt_value(const char *name, int argc, char **argv, int *i)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        die_usage("missing value for", name);
    return argv[++*i];
}

static int parse_int_opt(const char *name, const char *v, int min, int max)
{
    int64_t x;
    if (am_parse_i64(v, min, max, &x))
        die_usage("bad value for", name);
    return (int)x;
}

static void parse_args(struct bench_opts *o, int argc, char **argv)
{
    const char *mode = NULL, *v;
    *o = (struct bench_opts){.mode = BENCH_GROUP, .writers = 1, .seconds = 10};
    for (int i = 1; i < argc; i++) {
        if ((v = opt_value("--mode", argc, argv, &i)))
            mode = v;
        else if ((v = opt_value("--writers", argc, argv, &i)))
            o->writers = parse_int_opt("--writers", v, 1, BENCH_MAX_WRITERS);
        else if ((v = opt_value("--seconds", argc, argv, &i)))
            o->seconds = parse_int_opt("--seconds", v, 1, BENCH_MAX_SECONDS);
        else if ((v = opt_value("--dir", argc, argv, &i)))
            o->dir = v;
        else if ((v = opt_value("--conninfo", argc, argv, &i)))
            o->conninfo = v;
        else if (strcmp(argv[i], "--keep") == 0)
            o->keep = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else
            die_usage("unknown argument", argv[i]);
    }
    if (!mode)
        die_usage("missing", "--mode");
    if (strcmp(mode, "group") == 0)
        o->mode = BENCH_GROUP;
    else if (strcmp(mode, "single") == 0)
        o->mode = BENCH_SINGLE;
    else if (strcmp(mode, "pg") == 0)
        o->mode = BENCH_PG;
    else if (strcmp(mode, "async") == 0)
        o->mode = BENCH_ASYNC;
    else if (strcmp(mode, "fsync") == 0)
        o->mode = BENCH_FSYNC;
    else
        die_usage("unknown mode", mode);
    if (o->mode == BENCH_PG && !o->conninfo)
        die_usage("--mode=pg needs", "--conninfo");
    if (o->mode != BENCH_PG && !o->dir)
        die_usage("this mode needs", "--dir");
}

/* ------------------------------------------------------------- measuring */

static int lat_push(struct bench_worker *w, int64_t us)
{
    if (w->nlat == w->caplat) {
        size_t cap = w->caplat ? w->caplat * 2 : 4096;
        uint32_t *p = realloc(w->lat_us, cap * sizeof(*p));
        if (!p)
            return AM_ENOMEM;
        w->lat_us = p;
        w->caplat = cap;
    }
    w->lat_us[w->nlat++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted `v`, in milliseconds. */
static double percentile_ms(const uint32_t *v, size_t n, int p)
{
    if (!n)
        return 0;
    size_t rank = (n * (size_t)p + 99) / 100;
    return v[rank ? rank - 1 : 0] / 1000.0;
}

static void worker_fail(struct bench_worker *w, int rc, const char *fmt, const char *detail)
{
    w->rc = rc ? rc : AM_EIO;
    snprintf(w->why, sizeof(w->why), fmt, detail);
}

/* Waits for the start line; returns the deadline, or 0 if the run was called off. */
static int64_t wait_start(struct bench *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->go && !b->abort)
        pthread_cond_wait(&b->cv, &b->mu);
    int64_t deadline = b->abort ? 0 : b->deadline_us;
    pthread_mutex_unlock(&b->mu);
    return deadline;
}

/* The payload of event `n`: a unit's position report, as a CAD would log it. */
static json_t *event_data(int64_t n)
{
    return json_pack("{s:s, s:f, s:f, s:s, s:I}", "unit", "CAS-P-0042", "lat", 33.5731, "lon",
                     -7.5898, "status", "en_route", "n", (json_int_t)n);
}

/* ------------------------------------------------------------- store modes */

static int bench_apply(struct store_conn *c, struct store_cmd *cmd)
{
    struct bench_append *a = cmd->arg;
    return store_append(c, cmd, BENCH_TYPE, a->data, &a->seq);
}

static void *store_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    int64_t deadline = wait_start(w->b);
    for (int64_t n = 0; deadline && am_mono_us() < deadline; n++) {
        json_t *data = event_data(n);
        if (!data) {
            worker_fail(w, AM_ENOMEM, "cannot build event%s", "");
            break;
        }
        struct bench_append a = {data, 0};
        struct store_cmd cmd = {.apply = bench_apply, .arg = &a, .actor = w->actor};
        int64_t t0 = am_mono_us();
        int rc = store_write(w->b->st, &cmd);
        int64_t t1 = am_mono_us();
        json_decref(data);
        free(cmd.answer);
        if (rc) {
            worker_fail(w, rc, "store_write failed: %s", am_strerror(rc));
            break;
        }
        if (a.seq <= 0 || cmd.first_seq != a.seq) {
            worker_fail(w, AM_EINTERNAL, "acknowledged without a seq%s", "");
            break;
        }
        rc = lat_push(w, t1 - t0);
        if (rc) {
            worker_fail(w, rc, "%s", am_strerror(rc));
            break;
        }
        w->events++;
    }
    return NULL;
}

/*
 * --mode=async: amaned's way since its HTTP writes complete asynchronously.
 * Each "writer" is one command in flight: queued with store_submit(), and on
 * completion (on the store's writer thread) counted and queued again until
 * the deadline. No thread sleeps per command.
 */
static void async_done(struct store_cmd *cmd);

static int async_submit(struct bench_worker *w)
{
    json_decref(w->data);
    w->data = event_data(w->n++);
    if (!w->data)
        return AM_ENOMEM;
    w->append = (struct bench_append){w->data, 0};
    w->cmd = (struct store_cmd){.apply = bench_apply, .arg = &w->append, .actor = w->actor,
                                .done = async_done, .done_arg = w};
    w->t0 = am_mono_us();
    return store_submit(w->b->st, &w->cmd);
}

static void async_finish(struct bench_worker *w)
{
    json_decref(w->data);
    w->data = NULL;
    pthread_mutex_lock(&w->b->mu);
    if (--w->b->async_running == 0)
        pthread_cond_broadcast(&w->b->cv);
    pthread_mutex_unlock(&w->b->mu);
}

static void async_done(struct store_cmd *cmd)
{
    struct bench_worker *w = cmd->done_arg;
    int64_t t1 = am_mono_us();
    free(cmd->answer);
    cmd->answer = NULL;
    int rc = cmd->rc;
    if (rc)
        worker_fail(w, rc, "store_submit failed: %s", am_strerror(rc));
    else if (w->append.seq <= 0 || cmd->first_seq != w->append.seq)
        worker_fail(w, rc = AM_EINTERNAL, "acknowledged without a seq%s", "");
    else if ((rc = lat_push(w, t1 - w->t0)) == 0)
        w->events++;
    if (!rc && t1 < w->b->deadline_us && (rc = async_submit(w)) == 0)
        return;
    if (rc && !w->rc)
        worker_fail(w, rc, "cannot queue: %s", am_strerror(rc));
    async_finish(w);
}

static int run_async(struct bench *b, int64_t *elapsed_us)
{
    int64_t start = am_mono_us();
    b->deadline_us = start + (int64_t)b->o.seconds * 1000000;
    b->async_running = b->o.writers;
    int rc = 0;
    for (int i = 0; i < b->o.writers; i++) {
        rc = async_submit(&b->workers[i]);
        if (rc) {
            fprintf(stderr, "bench_store: cannot queue writer %d: %s\n", i, am_strerror(rc));
            for (int k = i; k < b->o.writers; k++)
                async_finish(&b->workers[k]);
            break;
        }
    }
    pthread_mutex_lock(&b->mu);
    while (b->async_running > 0)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    *elapsed_us = am_mono_us() - start;
    for (int i = 0; i < b->o.writers && !rc; i++) {
        if (b->workers[i].rc) {
            fprintf(stderr, "bench_store: writer %d: %s\n", i, b->workers[i].why);
            rc = b->workers[i].rc;
        }
    }
    return rc;
}

static int count_row(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

static int count_read(struct store_conn *c, void *arg)
{
    return store_query(c, "SELECT count(*) FROM events", count_row, arg, NULL);
}

/* Removes the database and its WAL and shared-memory files; missing files are fine. */
static int remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[4096];
        int n = snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        if (n < 0 || (size_t)n >= sizeof(p))
            return AM_ETOOBIG;
        if (unlink(p) && errno != ENOENT) {
            fprintf(stderr, "bench_store: cannot remove '%s': %s\n", p, strerror(errno));
            return AM_EIO;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- pg mode */

static bool pg_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    bool ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    if (!ok)
        fprintf(stderr, "bench_store: '%s' failed: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

static PGconn *pg_connect(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    if (!pg) {
        fprintf(stderr, "bench_store: cannot connect: out of memory\n");
        return NULL;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_store: cannot connect: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    /* Durability is what we measure: insist on it even if the server default differs. */
    if (!pg_ok(pg, "SET synchronous_commit = on")) {
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* A fresh table of the same shape as the store's event log, out of the way of real ones. */
static int pg_setup(const char *conninfo)
{
    PGconn *pg = pg_connect(conninfo);
    if (!pg)
        return AM_EIO;
    bool ok = pg_ok(pg, "SET client_min_messages = warning") &&
              pg_ok(pg, "CREATE SCHEMA IF NOT EXISTS amane_bench") &&
              pg_ok(pg, "DROP TABLE IF EXISTS amane_bench.events") &&
              pg_ok(pg, "CREATE TABLE amane_bench.events ("
                        " seq bigserial PRIMARY KEY,"
                        " ts_us bigint NOT NULL,"
                        " type text NOT NULL,"
                        " actor text NOT NULL,"
                        " data text NOT NULL,"
                        " hash bytea NOT NULL)") &&
              pg_ok(pg, "CHECKPOINT");
    PQfinish(pg);
    return ok ? 0 : AM_EIO;
}

/* Runs a query that returns one integer. */
static int pg_int(const char *conninfo, const char *sql, int64_t *out)
{
    PGconn *pg = pg_connect(conninfo);
    if (!pg)
        return AM_EIO;
    int rc = AM_EIO;
    PGresult *r = PQexec(pg, sql);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        rc = am_parse_i64(PQgetvalue(r, 0, 0), 0, INT64_MAX, out);
    else
        fprintf(stderr, "bench_store: '%s' failed: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    return rc;
}

/*
 * WAL fdatasyncs so far, server-wide (PostgreSQL 14+). Backends report their
 * counts at exit or at most once a second, so callers wait after closing.
 */
static int pg_wal_syncs(const char *conninfo, int64_t *out)
{
    return pg_int(conninfo, "SELECT wal_sync FROM pg_stat_wal", out);
}

/*
 * The hash the store computes for an event: SHA-256(previous hash ||
 * canonical bytes). Here the chain is per client, with the client's own
 * counter as seq: a single chain across clients would serialise them on
 * the server, which is not what "the same single-row inserts" means.
 */
static int pg_event_hash(uint8_t prev[AM_SHA256_LEN], int64_t n, int64_t ts, const char *actor,
                         const char *canon, size_t len)
{
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = am_buf_append(&b, prev, AM_SHA256_LEN);
    if (!rc)
        rc = store_event_canonical(n + 1, ts, BENCH_TYPE, actor, canon, len, &b);
    if (!rc)
        am_sha256(b.data, b.len, prev);
    am_buf_release(&b);
    return rc;
}

static void *pg_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    uint8_t hash[AM_SHA256_LEN] = {0};
    int64_t deadline = wait_start(w->b);
    for (int64_t n = 0; deadline && am_mono_us() < deadline; n++) {
        json_t *data = event_data(n);
        /* Timed from here: the store does the same canonical form and hash inside store_write. */
        int64_t t0 = am_mono_us();
        char *canon = data ? am_json_canonical(data) : NULL;
        json_decref(data);
        if (!canon) {
            worker_fail(w, AM_ENOMEM, "cannot build event%s", "");
            break;
        }
        int64_t ts = am_now_us();
        size_t len = strlen(canon);
        int rc = pg_event_hash(hash, n, ts, w->actor, canon, len);
        if (rc) {
            free(canon);
            worker_fail(w, rc, "cannot hash event: %s", am_strerror(rc));
            break;
        }
        char ts_text[24];
        snprintf(ts_text, sizeof(ts_text), "%lld", (long long)ts);
        const char *vals[5] = {ts_text, BENCH_TYPE, w->actor, canon, (const char *)hash};
        const int lens[5] = {0, 0, 0, 0, AM_SHA256_LEN};
        const int fmts[5] = {0, 0, 0, 0, 1}; /* the hash goes as binary bytea */
        PGresult *r = PQexecPrepared(w->pg, "bench_insert", 5, vals, lens, fmts, 0);
        int64_t t1 = am_mono_us();
        free(canon);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            worker_fail(w, AM_EIO, "insert failed: %s", PQerrorMessage(w->pg));
            break;
        }
        rc = lat_push(w, t1 - t0);
        if (rc) {
            worker_fail(w, rc, "%s", am_strerror(rc));
            break;
        }
        w->events++;
    }
    return NULL;
}

/* ------------------------------------------------------------- fsync mode */

/* Rewrites one block in place and waits for the disk, as a WAL commit does. */
static void *fsync_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    char block[BENCH_FSYNC_BLOCK];
    memset(block, 'x', sizeof(block));
    int64_t deadline = wait_start(w->b);
    for (int64_t n = 0; deadline && am_mono_us() < deadline; n++) {
        block[n % sizeof(block)] = (char)n;
        int64_t t0 = am_mono_us();
        if (pwrite(w->fd, block, sizeof(block), 0) != (ssize_t)sizeof(block)) {
            worker_fail(w, AM_EIO, "cannot write: %s", strerror(errno));
            break;
        }
        if (fdatasync(w->fd)) {
            worker_fail(w, AM_EIO, "fdatasync failed: %s", strerror(errno));
            break;
        }
        int64_t t1 = am_mono_us();
        int rc = lat_push(w, t1 - t0);
        if (rc) {
            worker_fail(w, rc, "%s", am_strerror(rc));
            break;
        }
        w->events++;
    }
    return NULL;
}

/* A file per writer, its block already on disk, so each later sync carries data only. */
static int fsync_open(struct bench_worker *w, const char *dir)
{
    char block[BENCH_FSYNC_BLOCK] = {0};
    int n = snprintf(w->path, sizeof(w->path), "%s/bench-fsync-%ld-%d", dir, (long)getpid(), w->id);
    if (n < 0 || (size_t)n >= sizeof(w->path)) {
        w->path[0] = '\0';
        fprintf(stderr, "bench_store: directory name too long\n");
        return AM_ETOOBIG;
    }
    w->fd = open(w->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        fprintf(stderr, "bench_store: cannot open '%s': %s\n", w->path, strerror(errno));
        return AM_EIO;
    }
    if (pwrite(w->fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fsync(w->fd)) {
        fprintf(stderr, "bench_store: cannot prepare '%s': %s\n", w->path, strerror(errno));
        return AM_EIO;
    }
    return 0;
}

/* ------------------------------------------------------------- the run */

static int open_workers(struct bench *b)
{
    b->workers = calloc((size_t)b->o.writers, sizeof(*b->workers));
    if (!b->workers)
        return AM_ENOMEM;
    for (int i = 0; i < b->o.writers; i++) {
        struct bench_worker *w = &b->workers[i];
        w->b = b;
        w->id = i;
        w->fd = -1; /* before anything can fail: close_workers() looks at every worker */
        snprintf(w->actor, sizeof(w->actor), "bench/%d", i);
    }
    for (int i = 0; i < b->o.writers; i++) {
        struct bench_worker *w = &b->workers[i];
        if (b->o.mode == BENCH_FSYNC) {
            int rc = fsync_open(w, b->o.dir);
            if (rc)
                return rc;
            continue;
        }
        if (b->o.mode != BENCH_PG)
            continue;
        /* Connected and prepared before the clock starts, as a pool would be. */
        w->pg = pg_connect(b->o.conninfo);
        if (!w->pg)
            return AM_EIO;
        PGresult *r = PQprepare(w->pg, "bench_insert", BENCH_PG_INSERT, 5, NULL);
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            fprintf(stderr, "bench_store: cannot prepare insert: %s", PQerrorMessage(w->pg));
            return AM_EIO;
        }
    }
    return 0;
}

static void close_workers(struct bench *b)
{
    if (!b->workers)
        return;
    for (int i = 0; i < b->o.writers; i++) {
        struct bench_worker *w = &b->workers[i];
        PQfinish(w->pg);
        free(w->lat_us);
        if (w->fd >= 0 && close(w->fd))
            fprintf(stderr, "bench_store: cannot close '%s': %s\n", w->path, strerror(errno));
        if (w->path[0] && unlink(w->path) && errno != ENOENT)
            fprintf(stderr, "bench_store: cannot remove '%s': %s\n", w->path, strerror(errno));
    }
    free(b->workers);
    b->workers = NULL;
}

/*
 * Starts every writer, lets them run for the configured time, and joins
 * them. *elapsed_us is from the start line to the last acknowledgement.
 */
static int run_workers(struct bench *b, int64_t *elapsed_us)
{
    void *(*main_fn)(void *) = b->o.mode == BENCH_PG      ? pg_worker_main
                               : b->o.mode == BENCH_FSYNC ? fsync_worker_main
                                                          : store_worker_main;
    int rc = 0;
    for (int i = 0; i < b->o.writers; i++) {
        struct bench_worker *w = &b->workers[i];
        if (pthread_create(&w->thread, NULL, main_fn, w)) {
            fprintf(stderr, "bench_store: cannot start writer %d\n", i);
            rc = AM_ENOMEM;
            break;
        }
        w->started = true;
    }
    pthread_mutex_lock(&b->mu);
    int64_t start = am_mono_us();
    b->deadline_us = start + (int64_t)b->o.seconds * 1000000;
    if (rc)
        b->abort = true;
    else
        b->go = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->o.writers; i++) {
        struct bench_worker *w = &b->workers[i];
        if (w->started && pthread_join(w->thread, NULL)) {
            fprintf(stderr, "bench_store: cannot join writer %d\n", i);
            rc = AM_EINTERNAL;
        }
    }
    *elapsed_us = am_mono_us() - start;
    for (int i = 0; i < b->o.writers && !rc; i++) {
        if (b->workers[i].rc) {
            fprintf(stderr, "bench_store: writer %d: %s\n", i, b->workers[i].why);
            rc = b->workers[i].rc;
        }
    }
    return rc;
}

/*
 * Merges every writer's latencies and prints the run's JSON line. `flushes`
 * is how many times the log was made durable (< 0: not known).
 */
static int report(struct bench *b, int64_t elapsed_us, int64_t flushes)
{
    size_t n = 0;
    int64_t events = 0;
    for (int i = 0; i < b->o.writers; i++) {
        n += b->workers[i].nlat;
        events += b->workers[i].events;
    }
    uint32_t *all = malloc((n ? n : 1) * sizeof(*all));
    if (!all)
        return AM_ENOMEM;
    size_t at = 0;
    for (int i = 0; i < b->o.writers; i++) {
        if (b->workers[i].nlat)
            memcpy(all + at, b->workers[i].lat_us, b->workers[i].nlat * sizeof(*all));
        at += b->workers[i].nlat;
    }
    qsort(all, n, sizeof(*all), cmp_u32);
    double secs = elapsed_us / 1e6;
    printf("{\"mode\":\"%s\",\"writers\":%d,\"seconds\":%d,\"events\":%lld,"
           "\"events_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"elapsed_s\":%.3f",
           bench_mode_names[b->o.mode], b->o.writers, b->o.seconds, (long long)events,
           secs > 0 ? events / secs : 0.0, percentile_ms(all, n, 50), percentile_ms(all, n, 99),
           secs);
    if (flushes >= 0)
        printf(",\"flushes\":%lld,\"events_per_flush\":%.2f", (long long)flushes,
               flushes ? (double)events / (double)flushes : 0.0);
    printf("}\n");
    free(all);
    return fflush(stdout) ? AM_EIO : 0;
}

static int64_t total_events(const struct bench *b)
{
    int64_t events = 0;
    for (int i = 0; i < b->o.writers; i++)
        events += b->workers[i].events;
    return events;
}

/* The store keeps its promise: the chain verifies and holds exactly what was acknowledged. */
static int check_store(struct bench *b)
{
    int64_t acked = total_events(b), rows = -1;
    struct store_verify v;
    int rc = store_verify_chain(b->st, &v);
    if (rc) {
        fprintf(stderr, "bench_store: chain does not verify at seq %lld: %s\n",
                (long long)v.bad_seq, v.why);
        return rc;
    }
    rc = store_read(b->st, count_read, &rows);
    if (rc) {
        fprintf(stderr, "bench_store: cannot count events: %s\n", am_strerror(rc));
        return rc;
    }
    if (rows != acked || v.verified != acked) {
        fprintf(stderr, "bench_store: %lld events acknowledged, %lld in the table, %lld verified\n",
                (long long)acked, (long long)rows, (long long)v.verified);
        return AM_ECORRUPT;
    }
    return 0;
}

static int run_store(struct bench *b)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/bench-%s-%d-%ld.db", b->o.dir,
                     bench_mode_names[b->o.mode], b->o.writers, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "bench_store: directory name too long\n");
        return AM_ETOOBIG;
    }
    int rc = remove_db(path);
    if (rc)
        return rc;
    struct store_opts so = {
        .path = path,
        .readers = 2,
        .max_batch = b->o.mode == BENCH_SINGLE ? 1 : 512,
        .sync_full = true,
    };
    rc = store_open(&b->st, &so);
    if (rc) {
        fprintf(stderr, "bench_store: cannot open store '%s': %s\n", path, am_strerror(rc));
        return rc;
    }
    int64_t elapsed_us = 0;
    struct store_stats stats;
    rc = open_workers(b);
    if (!rc)
        rc = b->o.mode == BENCH_ASYNC ? run_async(b, &elapsed_us) : run_workers(b, &elapsed_us);
    if (!rc) {
        store_stats_get(b->st, &stats);
        rc = check_store(b);
    }
    if (!rc)
        rc = report(b, elapsed_us, (int64_t)stats.commits); /* one WAL fdatasync per commit */
    store_close(b->st);
    b->st = NULL;
    if (!b->o.keep) {
        int rrc = remove_db(path);
        if (!rc)
            rc = rrc;
    }
    return rc;
}

static int run_pg(struct bench *b)
{
    int64_t elapsed_us = 0, rows = -1, syncs0 = 0, syncs1 = 0;
    int rc = pg_setup(b->o.conninfo);
    if (!rc)
        rc = open_workers(b);
    if (!rc) {
        sleep(1); /* let the setup's statistics reach pg_stat_wal */
        rc = pg_wal_syncs(b->o.conninfo, &syncs0);
    }
    if (!rc)
        rc = run_workers(b, &elapsed_us);
    if (!rc)
        rc = pg_int(b->o.conninfo, "SELECT count(*) FROM amane_bench.events", &rows);
    if (!rc && rows != total_events(b)) {
        fprintf(stderr, "bench_store: %lld inserts acknowledged, %lld rows in the table\n",
                (long long)total_events(b), (long long)rows);
        rc = AM_ECORRUPT;
    }
    if (!rc) {
        /* The backends report their WAL counters as they exit. */
        for (int i = 0; i < b->o.writers; i++) {
            PQfinish(b->workers[i].pg);
            b->workers[i].pg = NULL;
        }
        sleep(2);
        rc = pg_wal_syncs(b->o.conninfo, &syncs1);
    }
    if (!rc)
        rc = report(b, elapsed_us, syncs1 >= syncs0 ? syncs1 - syncs0 : -1);
    return rc;
}

static int run_fsync(struct bench *b)
{
    int64_t elapsed_us = 0;
    int rc = open_workers(b);
    if (!rc)
        rc = run_workers(b, &elapsed_us);
    if (!rc)
        rc = report(b, elapsed_us, -1);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench b = {0};
    parse_args(&b.o, argc, argv);
    am_log_set_level(AM_LOG_WARN);
    if (pthread_mutex_init(&b.mu, NULL) || pthread_cond_init(&b.cv, NULL)) {
        fprintf(stderr, "bench_store: cannot initialise the start line\n");
        return 1;
    }
    int rc = b.o.mode == BENCH_PG      ? run_pg(&b)
             : b.o.mode == BENCH_FSYNC ? run_fsync(&b)
                                       : run_store(&b);
    if (rc)
        fprintf(stderr, "bench_store: %s run failed: %s\n", bench_mode_names[b.o.mode],
                am_strerror(rc));
    close_workers(&b);
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
    return rc ? 1 : 0;
}
