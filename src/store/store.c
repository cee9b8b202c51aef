/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store.c - the backend-independent half of the store: the writer thread
 * and its group commit, per-command savepoints, the hash-chained event log,
 * idempotency keys, migrations, and the pool of reader connections.
 *
 * Why one writer: SQLite admits one writer at a time anyway, and one thread
 * that owns the write connection can put many commands into one transaction
 * and pay for one fsync. Callers are answered only after that fsync.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"

#define IDEM_TTL_US (24LL * 3600 * 1000000)
#define POLL_US     500000
/* Checkpoints: at most one every CKPT_GAP_US after commits (a page written by several
 * commits is copied once), and one that restarts the log once it holds CKPT_RESTART pages. */
#define CKPT_GAP_US  200000
#define CKPT_RESTART 8192

struct store {
    char *path;
    const struct store_backend *be;
    int max_batch;
    bool sync_full;
    void (*on_commit)(void *arg, struct am_event *const *evs, size_t n);
    void *on_commit_arg;

    struct store_conn writer;
    struct store_conn *readers;
    int nreaders;
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
    struct store_conn *rfree;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct store_cmd *qhead, *qtail;
    size_t qlen;
    bool stopping;
    bool writer_started;
    pthread_t writer_thread;

    /* Owned by the writer thread. */
    int64_t head_seq, head_ts;
    uint8_t head_hash[AM_SHA256_LEN];
    int64_t published_seq;
    struct am_event **evs;
    size_t nevs, capevs;
    int64_t last_purge_us;

    int64_t committed_seq;    /* atomic */
    struct store_stats stats; /* atomic fields */

    /* The checkpointer: its own connection and thread, woken by commits. */
    struct store_conn ckpt;
    pthread_t ckpt_thread;
    bool ckpt_started, ckpt_due, ckpt_stopping; /* under cmu */
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
};

static const struct store_migration core_migrations[] = {
    {"store", 1,
     "CREATE TABLE events ("
     "  seq INTEGER PRIMARY KEY,"
     "  ts_us INTEGER NOT NULL,"
     "  type TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  data TEXT NOT NULL,"
     "  hash BLOB NOT NULL);"
     "CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events"
     "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
     "CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"
     "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
     "CREATE TABLE idempotency ("
     "  scope TEXT NOT NULL,"
     "  key TEXT NOT NULL,"
     "  fp BLOB NOT NULL,"
     "  status INTEGER NOT NULL,"
     "  answer TEXT,"
     "  first_seq INTEGER NOT NULL,"
     "  last_seq INTEGER NOT NULL,"
     "  created_us INTEGER NOT NULL,"
     "  PRIMARY KEY (scope, key)) WITHOUT ROWID;"
     "CREATE INDEX idempotency_created ON idempotency(created_us);"},
};

/* ------------------------------------------------------------- SQL helpers */

int store_exec(struct store_conn *c, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = c->be->run(c, sql, NULL, NULL, types, ap);
    va_end(ap);
    return rc;
}

int store_query(struct store_conn *c, const char *sql, store_row_fn fn, void *arg,
                const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = c->be->run(c, sql, fn, arg, types, ap);
    va_end(ap);
    return rc;
}

/* ------------------------------------------------------------- bulk loads */

#define INDEXES_MAX 16

struct store_indexes {
    char *name[INDEXES_MAX], *sql[INDEXES_MAX];
    int n;
};

static int index_keep(struct store_row *r, void *arg)
{
    struct store_indexes *ix = arg;
    if (ix->n == INDEXES_MAX)
        return AM_ETOOBIG;
    ix->name[ix->n] = strdup(store_row_text(r, 0));
    ix->sql[ix->n] = strdup(store_row_text(r, 1));
    ix->n++;
    return ix->name[ix->n - 1] && ix->sql[ix->n - 1] ? 0 : AM_ENOMEM;
}

void store_indexes_free(struct store_indexes **ix)
{
    if (!*ix)
        return;
    for (int i = 0; i < (*ix)->n; i++) {
        free((*ix)->name[i]);
        free((*ix)->sql[i]);
    }
    free(*ix);
    *ix = NULL;
}

int store_indexes_drop(struct store_conn *c, const char *table, bool unique,
                       struct store_indexes **out)
{
    *out = NULL;
    if (!c->in_command)
        return AM_EINVAL;
    struct store_indexes *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return AM_ENOMEM;
    int rc = c->be->plain_indexes(c, table, unique, index_keep, ix);
    for (int i = 0; !rc && i < ix->n; i++) {
        /* DROP INDEX "name", the name quoted (its quotes doubled). */
        struct am_buf q;
        am_buf_init(&q, 0);
        rc = am_buf_append(&q, "DROP INDEX \"", 12);
        for (const char *s = ix->name[i]; !rc && *s; s++) {
            rc = am_buf_append(&q, s, 1);
            if (!rc && *s == '"')
                rc = am_buf_append(&q, s, 1);
        }
        if (!rc)
            rc = am_buf_append(&q, "\"", 2); /* with the NUL */
        if (!rc)
            rc = store_exec(c, q.data, "");
        am_buf_release(&q);
    }
    if (rc)
        store_indexes_free(&ix);
    *out = ix;
    return rc;
}

int store_indexes_restore(struct store_conn *c, struct store_indexes **ix)
{
    int rc = 0;
    for (int i = 0; *ix && !rc && i < (*ix)->n; i++)
        rc = store_exec(c, (*ix)->sql[i], "");
    store_indexes_free(ix);
    return rc;
}

int64_t store_changes(struct store_conn *c)
{
    return c->be->changes(c->h);
}

int64_t store_last_id(struct store_conn *c)
{
    return c->be->last_id(c->h);
}

int64_t store_row_i64(struct store_row *r, int col)
{
    return r->c->be->row_i64(r->impl, col);
}

double store_row_double(struct store_row *r, int col)
{
    return r->c->be->row_double(r->impl, col);
}

const char *store_row_text(struct store_row *r, int col)
{
    return r->c->be->row_text(r->impl, col);
}

const void *store_row_blob(struct store_row *r, int col, size_t *len)
{
    return r->c->be->row_blob(r->impl, col, len);
}

bool store_row_null(struct store_row *r, int col)
{
    return r->c->be->row_null(r->impl, col);
}

/* ------------------------------------------------------------- migrations */

struct applied {
    const char *module;
    int64_t max;
};

static int max_version_row(struct store_row *r, void *arg)
{
    ((struct applied *)arg)->max = store_row_i64(r, 0);
    return 0;
}

static int migrate_one_module(struct store *st, const struct store_migration *m, size_t n,
                              const char *module)
{
    struct applied a = {module, 0};
    int rc = store_query(&st->writer,
                         "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE module = ?",
                         max_version_row, &a, "t", module);
    if (rc)
        return rc;
    int64_t known = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].module, module) == 0 && m[i].version > known)
            known = m[i].version;
    if (a.max > known) {
        am_error("store", "database is newer than this program",
                 "module=%s db_version=%lld "
                 "known=%lld",
                 module, (long long)a.max, (long long)known);
        return AM_EIO;
    }
    for (int64_t v = a.max + 1; v <= known; v++) {
        const struct store_migration *mig = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(m[i].module, module) == 0 && m[i].version == v)
                mig = &m[i];
        if (!mig) {
            am_error("store", "missing migration", "module=%s version=%lld", module, (long long)v);
            return AM_EINTERNAL;
        }
        rc = st->be->begin_write(st->writer.h);
        if (!rc)
            rc = st->be->script(st->writer.h, mig->sql);
        if (!rc)
            rc = store_exec(&st->writer,
                            "INSERT INTO schema_migrations(module, version, applied_us) "
                            "VALUES (?, ?, ?)",
                            "tii", module, v, am_now_us());
        if (!rc)
            rc = st->be->script(st->writer.h, "COMMIT");
        if (rc) {
            st->be->script(st->writer.h, "ROLLBACK");
            am_error("store", "migration failed", "module=%s version=%lld err=\"%s\"", module,
                     (long long)v, am_strerror(rc));
            return rc;
        }
        am_info("store", "migration applied", "module=%s version=%lld", module, (long long)v);
    }
    return 0;
}

static int migrate(struct store *st, const struct store_migration *m, size_t n)
{
    int rc = st->be->script(st->writer.h,
                            "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " module TEXT NOT NULL, version INTEGER NOT NULL,"
                            " applied_us INTEGER NOT NULL, PRIMARY KEY (module, version))");
    if (rc)
        return rc;
    rc = migrate_one_module(st, core_migrations, 1, "store");
    for (size_t i = 0; i < n && !rc; i++) {
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (strcmp(m[j].module, m[i].module) == 0)
                first = false;
        if (first)
            rc = migrate_one_module(st, m, n, m[i].module);
    }
    return rc;
}

/* ------------------------------------------------------------- event chain */

/* Appends `s` as a JSON string, escaped exactly as jansson's default output does
 * (the chain of logs written before this function must still verify). */
static int json_quote(struct am_buf *b, const char *s)
{
    static const char hx[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    int rc = am_buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; !rc && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        rc = am_buf_append(b, run, (size_t)(p - run));
        char esc[7] = {'\\', (char)ch, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (ch) {
        case '"':
        case '\\':
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hx[ch >> 4];
            esc[5] = hx[ch & 15];
            n = 6;
        }
        if (!rc)
            rc = am_buf_append(b, esc, n);
        run = p + 1;
    }
    if (!rc)
        rc = am_buf_append(b, run, strlen(run));
    return rc ? rc : am_buf_append(b, "\"", 1);
}

int store_event_canonical(int64_t seq, int64_t ts_us, const char *type, const char *actor,
                          const char *data, size_t data_len, struct am_buf *out)
{
    int rc = am_buf_append(out, "{\"actor\":", 9);
    if (!rc)
        rc = json_quote(out, actor);
    if (!rc)
        rc = am_buf_append(out, ",\"data\":", 8);
    if (!rc)
        rc = am_buf_append(out, data, data_len);
    if (!rc)
        rc = am_buf_printf(out, ",\"seq\":%lld,\"ts\":%lld,\"type\":", (long long)seq,
                           (long long)ts_us);
    if (!rc)
        rc = json_quote(out, type);
    return rc ? rc : am_buf_append(out, "}", 1);
}

static int chain_hash(const uint8_t prev[AM_SHA256_LEN], int64_t seq, int64_t ts_us,
                      const char *type, const char *actor, const char *data, size_t data_len,
                      uint8_t out[AM_SHA256_LEN])
{
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = am_buf_append(&b, prev, AM_SHA256_LEN);
    if (!rc)
        rc = store_event_canonical(seq, ts_us, type, actor, data, data_len, &b);
    if (!rc)
        am_sha256(b.data, b.len, out);
    am_buf_release(&b);
    return rc;
}

static int push_event(struct store *st, struct am_event *ev)
{
    if (st->nevs == st->capevs) {
        size_t cap = st->capevs ? st->capevs * 2 : 256;
        struct am_event **p = realloc(st->evs, cap * sizeof(*p));
        if (!p)
            return AM_ENOMEM;
        st->evs = p;
        st->capevs = cap;
    }
    st->evs[st->nevs++] = ev;
    return 0;
}

static void drop_events_from(struct store *st, size_t mark)
{
    while (st->nevs > mark)
        am_event_unref(st->evs[--st->nevs]);
}

int store_append(struct store_conn *c, struct store_cmd *cmd, const char *type, const json_t *data,
                 int64_t *seq_out)
{
    const char *actor = cmd->actor ? cmd->actor : "";
    /* Both are kept whole in struct am_event: longer ones would differ from what is hashed. */
    if (!c->in_command || !json_is_object(data) || !type || strlen(type) >= 64 ||
        strlen(actor) >= sizeof(((struct am_event *)0)->actor))
        return AM_EINVAL;
    struct store *st = c->st;
    char *canon = am_json_canonical(data);
    if (!canon)
        return AM_ENOMEM;
    size_t len = strlen(canon);
    int64_t seq = st->head_seq + 1;
    int64_t ts = am_now_us();
    if (ts < st->head_ts)
        ts = st->head_ts; /* the log's time never goes backwards, even if the clock does */
    uint8_t hash[AM_SHA256_LEN];
    int rc = chain_hash(st->head_hash, seq, ts, type, actor, canon, len, hash);
    if (!rc)
        rc = store_exec(c,
                        "INSERT INTO events(seq, ts_us, type, actor, data, hash) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        "iittt"
                        "b",
                        seq, ts, type, actor, canon, (const void *)hash, (size_t)AM_SHA256_LEN);
    struct am_event *ev = NULL;
    if (!rc) {
        ev = am_event_new(seq, ts, type, actor, canon, len);
        rc = ev ? push_event(st, ev) : AM_ENOMEM;
        if (rc)
            am_event_unref(ev);
    }
    free(canon);
    if (rc)
        return rc;
    memcpy(ev->hash, hash, AM_SHA256_LEN);
    st->head_seq = seq;
    st->head_ts = ts;
    memcpy(st->head_hash, hash, AM_SHA256_LEN);
    if (!cmd->first_seq)
        cmd->first_seq = seq;
    cmd->last_seq = seq;
    cmd->last_ts = ts;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

static struct am_event *event_from_row(struct store_row *r)
{
    size_t hlen;
    const char *data = store_row_text(r, 4);
    struct am_event *ev =
        am_event_new(store_row_i64(r, 0), store_row_i64(r, 1), store_row_text(r, 2),
                     store_row_text(r, 3), data, strlen(data));
    if (!ev)
        return NULL;
    const void *h = store_row_blob(r, 5, &hlen);
    if (h && hlen == AM_SHA256_LEN)
        memcpy(ev->hash, h, AM_SHA256_LEN);
    return ev;
}

static int head_row(struct store_row *r, void *arg)
{
    struct store *st = arg;
    size_t n;
    const void *h = store_row_blob(r, 2, &n);
    st->head_seq = store_row_i64(r, 0);
    st->head_ts = store_row_i64(r, 1);
    if (h && n == AM_SHA256_LEN)
        memcpy(st->head_hash, h, AM_SHA256_LEN);
    else
        return AM_ECORRUPT;
    return 0;
}

/* Reads the chain head; another process (the CLI) may have appended since our last batch. */
static int load_head(struct store *st)
{
    st->head_seq = 0;
    st->head_ts = 0;
    memset(st->head_hash, 0, AM_SHA256_LEN);
    return store_query(&st->writer, "SELECT seq, ts_us, hash FROM events ORDER BY seq DESC LIMIT 1",
                       head_row, st, NULL);
}

static int external_row(struct store_row *r, void *arg)
{
    struct store *st = arg;
    struct am_event *ev = event_from_row(r);
    if (!ev)
        return AM_ENOMEM;
    int rc = push_event(st, ev);
    if (rc)
        am_event_unref(ev);
    return rc;
}

/* Queues events appended by another process so the bus sees every event once, in order. */
static int load_external(struct store *st)
{
    if (st->head_seq <= st->published_seq)
        return 0;
    return store_query(&st->writer,
                       "SELECT seq, ts_us, type, actor, data, hash FROM events WHERE seq > ? "
                       "AND seq <= ? ORDER BY seq",
                       external_row, st, "ii", st->published_seq, st->head_seq);
}

/* ------------------------------------------------------------- writer */

struct idem_found {
    struct store_cmd *cmd;
    bool found;
};

static int idem_row(struct store_row *r, void *arg)
{
    struct idem_found *f = arg;
    struct store_cmd *cmd = f->cmd;
    size_t n;
    const void *fp = store_row_blob(r, 0, &n);
    f->found = true;
    if (n != AM_SHA256_LEN || memcmp(fp, cmd->idem_fp, AM_SHA256_LEN)) {
        cmd->idem_mismatch = true;
        return 0;
    }
    cmd->status = (int)store_row_i64(r, 1);
    free(cmd->answer);
    cmd->answer = store_row_null(r, 2) ? NULL : strdup(store_row_text(r, 2));
    cmd->first_seq = store_row_i64(r, 3);
    cmd->last_seq = store_row_i64(r, 4);
    cmd->replayed = true;
    return 0;
}

static int run_one(struct store *st, struct store_cmd *cmd)
{
    struct store_conn *c = &st->writer;
    if (cmd->idem_key) {
        struct idem_found f = {cmd, false};
        int rc =
            store_query(c,
                        "SELECT fp, status, answer, first_seq, last_seq FROM idempotency "
                        "WHERE scope = ? AND key = ?",
                        idem_row, &f, "tt", cmd->idem_scope ? cmd->idem_scope : "", cmd->idem_key);
        if (rc)
            return rc;
        if (cmd->idem_mismatch)
            return AM_ECONFLICT;
        if (f.found)
            return 0;
    }
    c->in_command = true;
    int rc = cmd->apply(c, cmd);
    c->in_command = false;
    if (!rc && cmd->idem_key)
        rc = store_exec(c,
                        "INSERT INTO idempotency(scope, key, fp, status, answer, first_seq, "
                        "last_seq, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        "tt"
                        "b"
                        "itiii",
                        cmd->idem_scope ? cmd->idem_scope : "", cmd->idem_key,
                        (const void *)cmd->idem_fp, (size_t)AM_SHA256_LEN, (int64_t)cmd->status,
                        cmd->answer, cmd->first_seq, cmd->last_seq, am_now_us());
    return rc;
}

static void complete(struct store *st, struct store_cmd *batch)
{
    while (batch) {
        struct store_cmd *next = batch->next_; /* batch may be freed once completed */
        if (batch->rc)
            __atomic_fetch_add(&st->stats.failed, 1, __ATOMIC_RELAXED);
        if (batch->replayed)
            __atomic_fetch_add(&st->stats.replayed, 1, __ATOMIC_RELAXED);
        if (batch->done)
            batch->done(batch);
        else
            sem_post(&batch->sem_);
        batch = next;
    }
}

static void publish(struct store *st)
{
    if (st->nevs && st->on_commit)
        st->on_commit(st->on_commit_arg, st->evs, st->nevs);
    if (st->nevs)
        st->published_seq = st->evs[st->nevs - 1]->seq;
    __atomic_store_n(&st->committed_seq, st->head_seq, __ATOMIC_RELEASE);
    __atomic_fetch_add(&st->stats.events, st->nevs, __ATOMIC_RELAXED);
    drop_events_from(st, 0);
}

/* ------------------------------------------------------------- checkpoints */

/* Tells the checkpointer that the log grew; called by the writer after a commit. */
static void checkpoint_due(struct store *st)
{
    if (!st->ckpt_started)
        return;
    pthread_mutex_lock(&st->cmu);
    if (!st->ckpt_due) {
        st->ckpt_due = true;
        pthread_cond_signal(&st->ccv);
    }
    pthread_mutex_unlock(&st->cmu);
}

/*
 * The checkpointer: copies what the writer committed from the log into the
 * database, off the writer's thread, so that a group commit costs one fsync
 * of the log and nothing else. A passive checkpoint waits for no one; the
 * writer starts the log again from its beginning when a checkpoint has
 * caught up with it. Under a sustained load it seldom catches up, so once
 * the log holds CKPT_RESTART pages the checkpoint restarts it, holding the
 * writer back for as long as it takes to copy the pages not copied yet.
 * Durability is unchanged: a commit is durable once its log frames are
 * synced (synchronous=FULL), and a checkpoint syncs the database before
 * the log may be reused.
 */
static void *checkpointer_main(void *arg)
{
    struct store *st = arg;
    int64_t last_us = 0;
    pthread_mutex_lock(&st->cmu);
    while (!st->ckpt_stopping) {
        if (!st->ckpt_due) {
            pthread_cond_wait(&st->ccv, &st->cmu);
            continue;
        }
        int64_t wait_us = last_us + CKPT_GAP_US - am_mono_us();
        if (wait_us > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
            ts.tv_sec += wait_us / 1000000 + ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            pthread_cond_timedwait(&st->ccv, &st->cmu, &ts);
            continue;
        }
        st->ckpt_due = false;
        pthread_mutex_unlock(&st->cmu);
        last_us = am_mono_us();
        int log_pages = 0, done_pages = 0;
        int rc = st->be->checkpoint(st->ckpt.h, false, &log_pages, &done_pages);
        if ((!rc || rc == AM_EBUSY) && log_pages >= CKPT_RESTART)
            rc = st->be->checkpoint(st->ckpt.h, true, &log_pages, &done_pages);
        if (rc && rc != AM_EBUSY)
            am_warn("store", "checkpoint failed", "err=\"%s\"", am_strerror(rc));
        pthread_mutex_lock(&st->cmu);
    }
    pthread_mutex_unlock(&st->cmu);
    return NULL;
}

static void run_batch(struct store *st, struct store_cmd *batch, size_t n)
{
    void *h = st->writer.h;
    int rc = st->be->begin_write(h);
    if (!rc)
        rc = load_head(st);
    if (!rc)
        rc = load_external(st);
    for (struct store_cmd *cmd = batch; cmd && !rc; cmd = cmd->next_) {
        int64_t seq = st->head_seq, ts = st->head_ts;
        uint8_t hash[AM_SHA256_LEN];
        memcpy(hash, st->head_hash, AM_SHA256_LEN);
        cmd->ev_mark_ = st->nevs;
        rc = store_exec(&st->writer, "SAVEPOINT cmd", NULL);
        if (rc)
            break;
        cmd->rc = run_one(st, cmd);
        if (cmd->rc) {
            /* Undo this command alone; the rest of the group goes on. */
            rc = store_exec(&st->writer, "ROLLBACK TO cmd", NULL);
            drop_events_from(st, cmd->ev_mark_);
            st->head_seq = seq;
            st->head_ts = ts;
            memcpy(st->head_hash, hash, AM_SHA256_LEN);
            cmd->first_seq = cmd->last_seq = cmd->replayed ? cmd->first_seq : 0;
        }
        if (!rc)
            rc = store_exec(&st->writer, "RELEASE cmd", NULL);
    }
    if (!rc)
        rc = st->be->script(h, "COMMIT");
    if (rc) {
        am_error("store", "group commit failed", "commands=%zu err=\"%s\"", n, am_strerror(rc));
        st->be->script(h, "ROLLBACK");
        drop_events_from(st, 0);
        for (struct store_cmd *cmd = batch; cmd; cmd = cmd->next_) {
            if (!cmd->rc)
                cmd->rc = rc == AM_EBUSY ? AM_EBUSY : AM_EIO;
            cmd->first_seq = cmd->last_seq = 0;
            cmd->replayed = false;
        }
    } else {
        __atomic_fetch_add(&st->stats.commits, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&st->stats.commands, n, __ATOMIC_RELAXED);
        publish(st);
    }
    complete(st, batch);
    if (!rc)
        checkpoint_due(st);
}

/* When idle: publish what other processes appended, and forget old idempotency keys. */
static void idle_work(struct store *st)
{
    int rc = st->be->begin_write(st->writer.h);
    if (rc)
        return;
    rc = load_head(st);
    if (!rc)
        rc = load_external(st);
    int64_t now = am_now_us();
    if (!rc && now - st->last_purge_us > 60 * 1000000LL) {
        rc = store_exec(&st->writer, "DELETE FROM idempotency WHERE created_us < ?", "i",
                        now - IDEM_TTL_US);
        st->last_purge_us = now;
    }
    if (!rc)
        rc = st->be->script(st->writer.h, "COMMIT");
    if (rc) {
        st->be->script(st->writer.h, "ROLLBACK");
        drop_events_from(st, 0);
        return;
    }
    publish(st);
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->qmu);
        bool timed_out = false;
        while (!st->qhead && !st->stopping && !timed_out) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (POLL_US % 1000000) * 1000;
            ts.tv_sec += POLL_US / 1000000 + ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            if (pthread_cond_timedwait(&st->qcv, &st->qmu, &ts) == ETIMEDOUT)
                timed_out = true;
        }
        if (!st->qhead) {
            bool stop = st->stopping;
            pthread_mutex_unlock(&st->qmu);
            if (stop)
                break;
            idle_work(st);
            continue;
        }
        struct store_cmd *batch = st->qhead, *last = batch;
        size_t n = 1;
        while (last->next_ && n < (size_t)st->max_batch) {
            last = last->next_;
            n++;
        }
        st->qhead = last->next_;
        if (!st->qhead)
            st->qtail = NULL;
        st->qlen -= n;
        last->next_ = NULL;
        pthread_mutex_unlock(&st->qmu);
        run_batch(st, batch, n);
    }
    return NULL;
}

int store_submit(struct store *st, struct store_cmd *cmd)
{
    if (!cmd->apply)
        return AM_EINVAL;
    if (cmd->idem_key && (strlen(cmd->idem_key) == 0 || strlen(cmd->idem_key) > STORE_IDEM_KEY_MAX))
        return AM_EINVAL;
    cmd->rc = 0;
    cmd->replayed = false;
    cmd->idem_mismatch = false;
    cmd->first_seq = cmd->last_seq = 0;
    cmd->next_ = NULL;
    pthread_mutex_lock(&st->qmu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->qmu);
        return AM_ECLOSED;
    }
    if (st->qtail)
        st->qtail->next_ = cmd;
    else
        st->qhead = cmd;
    st->qtail = cmd;
    st->qlen++;
    pthread_cond_signal(&st->qcv);
    pthread_mutex_unlock(&st->qmu);
    return 0;
}

int store_write(struct store *st, struct store_cmd *cmd)
{
    cmd->done = NULL;
    if (sem_init(&cmd->sem_, 0, 0))
        return AM_ENOMEM;
    int rc = store_submit(st, cmd);
    if (!rc) {
        while (sem_wait(&cmd->sem_) && errno == EINTR)
            ;
        rc = cmd->rc;
    }
    sem_destroy(&cmd->sem_);
    return rc;
}

/* ------------------------------------------------------------- readers */

int store_read(struct store *st, store_read_fn fn, void *arg)
{
    pthread_mutex_lock(&st->rmu);
    while (!st->rfree)
        pthread_cond_wait(&st->rcv, &st->rmu);
    struct store_conn *c = st->rfree;
    st->rfree = c->next;
    pthread_mutex_unlock(&st->rmu);
    int rc = fn(c, arg);
    pthread_mutex_lock(&st->rmu);
    c->next = st->rfree;
    st->rfree = c;
    pthread_cond_signal(&st->rcv);
    pthread_mutex_unlock(&st->rmu);
    return rc;
}

struct since_ctx {
    int64_t since, limit;
    int (*fn)(struct am_event *ev, void *arg);
    void *arg;
};

static int since_row(struct store_row *r, void *arg)
{
    struct since_ctx *s = arg;
    struct am_event *ev = event_from_row(r);
    if (!ev)
        return AM_ENOMEM;
    int rc = s->fn(ev, s->arg);
    am_event_unref(ev);
    return rc;
}

static int since_read(struct store_conn *c, void *arg)
{
    struct since_ctx *s = arg;
    return store_query(c,
                       "SELECT seq, ts_us, type, actor, data, hash FROM events WHERE seq > ? "
                       "ORDER BY seq LIMIT ?",
                       since_row, s, "ii", s->since, s->limit > 0 ? s->limit : INT64_MAX);
}

int store_events_since(struct store *st, int64_t since, int64_t limit,
                       int (*fn)(struct am_event *ev, void *arg), void *arg)
{
    struct since_ctx s = {since, limit, fn, arg};
    return store_read(st, since_read, &s);
}

int64_t store_head_seq(struct store *st)
{
    return __atomic_load_n(&st->committed_seq, __ATOMIC_ACQUIRE);
}

struct verify_ctx {
    struct store_verify *v;
    uint8_t prev[AM_SHA256_LEN];
    int64_t expect;
};

static int verify_row(struct store_row *r, void *arg)
{
    struct verify_ctx *x = arg;
    struct store_verify *v = x->v;
    int64_t seq = store_row_i64(r, 0);
    const char *data = store_row_text(r, 4);
    size_t hlen;
    const void *stored = store_row_blob(r, 5, &hlen);
    uint8_t h[AM_SHA256_LEN];
    if (seq != x->expect) {
        v->bad_seq = x->expect;
        snprintf(v->why, sizeof(v->why), "event %lld is missing (next present is %lld)",
                 (long long)x->expect, (long long)seq);
        return AM_ECORRUPT;
    }
    int rc = chain_hash(x->prev, seq, store_row_i64(r, 1), store_row_text(r, 2),
                        store_row_text(r, 3), data, strlen(data), h);
    if (rc)
        return rc;
    if (hlen != AM_SHA256_LEN || memcmp(h, stored, AM_SHA256_LEN)) {
        v->bad_seq = seq;
        snprintf(v->why, sizeof(v->why),
                 "hash of event %lld does not match its content and "
                 "the previous event",
                 (long long)seq);
        return AM_ECORRUPT;
    }
    memcpy(x->prev, h, AM_SHA256_LEN);
    memcpy(v->head, h, AM_SHA256_LEN);
    v->verified++;
    x->expect++;
    return 0;
}

static int verify_read(struct store_conn *c, void *arg)
{
    /* One read transaction, so the walk sees one consistent snapshot. */
    int rc = c->be->script(c->h, "BEGIN");
    if (rc)
        return rc;
    rc = store_query(c, "SELECT seq, ts_us, type, actor, data, hash FROM events ORDER BY seq",
                     verify_row, arg, NULL);
    c->be->script(c->h, "COMMIT");
    return rc;
}

int store_verify_chain(struct store *st, struct store_verify *out)
{
    memset(out, 0, sizeof(*out));
    struct verify_ctx x = {out, {0}, 1};
    return store_read(st, verify_read, &x);
}

void store_stats_get(struct store *st, struct store_stats *out)
{
    out->commits = __atomic_load_n(&st->stats.commits, __ATOMIC_RELAXED);
    out->commands = __atomic_load_n(&st->stats.commands, __ATOMIC_RELAXED);
    out->events = __atomic_load_n(&st->stats.events, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&st->stats.failed, __ATOMIC_RELAXED);
    out->replayed = __atomic_load_n(&st->stats.replayed, __ATOMIC_RELAXED);
    pthread_mutex_lock(&st->qmu);
    out->queue_depth = st->qlen;
    pthread_mutex_unlock(&st->qmu);
}

/* ------------------------------------------------------------- open/close */

int store_open(struct store **out, const struct store_opts *o)
{
    if (!o->path || o->readers < 1 || o->max_batch < 1)
        return AM_EINVAL;
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return AM_ENOMEM;
    st->be = &store_sqlite_backend;
    st->path = strdup(o->path);
    st->max_batch = o->max_batch;
    st->sync_full = o->sync_full;
    st->on_commit = o->on_commit;
    st->on_commit_arg = o->on_commit_arg;
    pthread_mutex_init(&st->rmu, NULL);
    pthread_cond_init(&st->rcv, NULL);
    pthread_mutex_init(&st->qmu, NULL);
    pthread_cond_init(&st->qcv, NULL);
    pthread_mutex_init(&st->cmu, NULL);
    pthread_cond_init(&st->ccv, NULL);
    st->writer = (struct store_conn){.be = st->be, .st = st};
    int rc = st->path ? 0 : AM_ENOMEM;
    if (!rc)
        rc = st->be->open(st->path, true, st->sync_full, &st->writer.h);
    if (!rc)
        rc = migrate(st, o->migrations, o->nmigrations);
    if (!rc)
        rc = load_head(st);
    if (rc)
        goto err;
    st->published_seq = st->head_seq;
    st->committed_seq = st->head_seq;
    st->readers = calloc((size_t)o->readers, sizeof(*st->readers));
    if (!st->readers) {
        rc = AM_ENOMEM;
        goto err;
    }
    for (int i = 0; i < o->readers; i++) {
        struct store_conn *c = &st->readers[i];
        *c = (struct store_conn){.be = st->be, .st = st};
        rc = st->be->open(st->path, false, st->sync_full, &c->h);
        if (rc)
            goto err;
        st->nreaders++;
        c->next = st->rfree;
        st->rfree = c;
    }
    if (st->be->checkpoint) {
        st->ckpt = (struct store_conn){.be = st->be, .st = st};
        rc = st->be->open(st->path, true, st->sync_full, &st->ckpt.h);
        if (rc)
            goto err;
        if (pthread_create(&st->ckpt_thread, NULL, checkpointer_main, st)) {
            rc = AM_ENOMEM;
            goto err;
        }
        st->ckpt_started = true;
    }
    if (pthread_create(&st->writer_thread, NULL, writer_main, st)) {
        rc = AM_ENOMEM;
        goto err;
    }
    st->writer_started = true;
    *out = st;
    return 0;
err:
    store_close(st);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->qmu);
    st->stopping = true;
    pthread_cond_broadcast(&st->qcv);
    pthread_mutex_unlock(&st->qmu);
    if (st->writer_started)
        pthread_join(st->writer_thread, NULL);
    if (st->ckpt_started) {
        pthread_mutex_lock(&st->cmu);
        st->ckpt_stopping = true;
        pthread_cond_signal(&st->ccv);
        pthread_mutex_unlock(&st->cmu);
        pthread_join(st->ckpt_thread, NULL);
    }
    if (st->ckpt.h)
        st->be->close(st->ckpt.h);
    for (int i = 0; i < st->nreaders; i++)
        st->be->close(st->readers[i].h);
    free(st->readers);
    st->be->close(st->writer.h);
    drop_events_from(st, 0);
    free(st->evs);
    pthread_mutex_destroy(&st->rmu);
    pthread_cond_destroy(&st->rcv);
    pthread_mutex_destroy(&st->qmu);
    pthread_cond_destroy(&st->qcv);
    pthread_mutex_destroy(&st->cmu);
    pthread_cond_destroy(&st->ccv);
    free(st->path);
    free(st);
}
