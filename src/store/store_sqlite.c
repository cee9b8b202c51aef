/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_sqlite.c - the embedded SQLite backend: WAL, foreign keys,
 * synchronous=FULL by default, a prepared-statement cache per connection.
 * The writer never checkpoints (wal_autocheckpoint=0): SQLite's automatic
 * checkpoint would run on the writer thread after almost every group commit
 * (a read-back of the log, a copy and a second fsync), so store.c runs
 * checkpoints from a connection and a thread of their own instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define STMT_CACHE 64

struct sq_conn {
    sqlite3 *db;
    struct {
        const char *sql; /* the caller's string, as a fast key */
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
    int next_victim;
};

static int map_rc(sqlite3 *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return AM_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        am_warn("store", "database busy", "what=%s err=\"%s\"", what, sqlite3_errmsg(db));
        return AM_EBUSY;
    case SQLITE_NOMEM:
        return AM_ENOMEM;
    case SQLITE_TOOBIG:
        return AM_ETOOBIG;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        am_error("store", "database corrupt", "what=%s err=\"%s\"", what, sqlite3_errmsg(db));
        return AM_ECORRUPT;
    default:
        am_error("store", "sqlite error", "what=%s rc=%d err=\"%s\"", what, rc, sqlite3_errmsg(db));
        return AM_EIO;
    }
}

/* Once per process, before SQLite starts: no memory statistics, which take a global mutex
 * around every allocation of every connection. */
static void sq_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(const char *path, bool writer, bool sync_full, void **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sq_configure);
    struct sq_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return AM_ENOMEM;
    int flags = SQLITE_OPEN_NOMUTEX |
                (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        am_error("store", "cannot open database", "path=\"%s\" err=\"%s\"", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return AM_EIO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 10000);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "%sPRAGMA foreign_keys=ON; PRAGMA recursive_triggers=ON; PRAGMA synchronous=%s;"
             " PRAGMA cache_size=-16384;"
             "PRAGMA temp_store=MEMORY;%s",
             writer ? "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; " : "",
             sync_full ? "FULL" : "NORMAL", writer ? "" : " PRAGMA query_only=1;");
    char *err = NULL;
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        am_error("store", "cannot configure database", "path=\"%s\" err=\"%s\"", path,
                 err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(c->db);
        free(c);
        return AM_EIO;
    }
    *out = c;
    return 0;
}

static void sq_close(void *h)
{
    struct sq_conn *c = h;
    if (!c)
        return;
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(c->cache[i].stmt);
    sqlite3_close(c->db);
    free(c);
}

static int sq_script(void *h, const char *sql)
{
    struct sq_conn *c = h;
    char *err = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int mapped = map_rc(c->db, rc, "script");
        sqlite3_free(err);
        return mapped ? mapped : AM_EIO;
    }
    return 0;
}

static sqlite3_stmt *cached_stmt(struct sq_conn *c, const char *sql, int *rc_out)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        /* Pointer first (cheap), then the text: a freed string's address may be reused. */
        if (c->cache[i].sql == sql && c->cache[i].stmt &&
            strcmp(sqlite3_sql(c->cache[i].stmt), sql) == 0)
            return c->cache[i].stmt;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        *rc_out = map_rc(c->db, rc, "prepare");
        if (!*rc_out)
            *rc_out = AM_EIO;
        am_error("store", "cannot prepare statement", "sql=\"%.80s\"", sql);
        return NULL;
    }
    int slot = -1;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (!c->cache[i].stmt) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        /* Never evict a statement that is still being stepped (a query around this one). */
        for (int k = 0; k < STMT_CACHE && slot < 0; k++) {
            int v = c->next_victim;
            c->next_victim = (c->next_victim + 1) % STMT_CACHE;
            if (!sqlite3_stmt_busy(c->cache[v].stmt))
                slot = v;
        }
        if (slot < 0) {
            sqlite3_finalize(stmt);
            *rc_out = AM_EBUSY;
            return NULL;
        }
        sqlite3_finalize(c->cache[slot].stmt);
    }
    c->cache[slot].sql = sql;
    c->cache[slot].stmt = stmt;
    return stmt;
}

static int sq_run(struct store_conn *conn, const char *sql, store_row_fn fn, void *arg,
                  const char *types, va_list ap)
{
    struct sq_conn *c = conn->h;
    int rc = 0;
    sqlite3_stmt *stmt = cached_stmt(c, sql, &rc);
    if (!stmt)
        return rc;
    int idx = 1;
    for (const char *t = types ? types : ""; *t && !rc; t++, idx++) {
        int brc = SQLITE_OK;
        switch (*t) {
        case 'i':
            brc = sqlite3_bind_int64(stmt, idx, va_arg(ap, int64_t));
            break;
        case 'd':
            brc = sqlite3_bind_double(stmt, idx, va_arg(ap, double));
            break;
        case 't': {
            const char *s = va_arg(ap, const char *);
            brc = s ? sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT)
                    : sqlite3_bind_null(stmt, idx);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            brc = sqlite3_bind_blob64(stmt, idx, p, n, SQLITE_TRANSIENT);
            break;
        }
        default:
            AM_BUG("bad store type string");
        }
        if (brc != SQLITE_OK)
            rc = map_rc(c->db, brc, "bind");
    }
    while (!rc) {
        int s = sqlite3_step(stmt);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = map_rc(c->db, s, "step");
            if (!rc)
                rc = AM_EIO;
            break;
        }
        if (!fn)
            continue;
        struct store_row row = {conn, stmt};
        int r = fn(&row, arg);
        if (r) {
            rc = r;
            break;
        }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static int64_t sq_changes(void *h)
{
    return sqlite3_changes64(((struct sq_conn *)h)->db);
}

static int64_t sq_last_id(void *h)
{
    return sqlite3_last_insert_rowid(((struct sq_conn *)h)->db);
}

static int sq_begin_write(void *h)
{
    return sq_script(h, "BEGIN IMMEDIATE");
}

static int sq_checkpoint(void *h, bool restart, int *log_pages, int *done_pages)
{
    struct sq_conn *c = h;
    *log_pages = *done_pages = 0;
    /* A restart holds the writer back while it waits for readers: not for long. */
    sqlite3_busy_timeout(c->db, restart ? 250 : 10000);
    int rc = sqlite3_wal_checkpoint_v2(
        c->db, NULL, restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE, log_pages,
        done_pages);
    /* Busy: a reader or the writer kept it from finishing; the next one goes on. */
    if ((rc & 0xff) == SQLITE_BUSY)
        return AM_EBUSY;
    return rc == SQLITE_OK ? 0 : map_rc(c->db, rc, "checkpoint");
}

static int64_t sq_row_i64(void *row, int col)
{
    return sqlite3_column_int64(row, col);
}

static double sq_row_double(void *row, int col)
{
    return sqlite3_column_double(row, col);
}

static const char *sq_row_text(void *row, int col)
{
    const unsigned char *t = sqlite3_column_text(row, col);
    return t ? (const char *)t : "";
}

static const void *sq_row_blob(void *row, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(row, col);
    *len = (size_t)sqlite3_column_bytes(row, col);
    return p;
}

static bool sq_row_null(void *row, int col)
{
    return sqlite3_column_type(row, col) == SQLITE_NULL;
}

static int sq_plain_indexes(struct store_conn *c, const char *table, bool unique, store_row_fn fn,
                            void *arg)
{
    return store_query(c,
                       "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                       " AND sql IS NOT NULL AND (? OR sql NOT LIKE 'CREATE UNIQUE%')",
                       fn, arg, "ti", table, (int64_t)unique);
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .script = sq_script,
    .run = sq_run,
    .changes = sq_changes,
    .last_id = sq_last_id,
    .begin_write = sq_begin_write,
    .checkpoint = sq_checkpoint,
    .plain_indexes = sq_plain_indexes,
    .row_i64 = sq_row_i64,
    .row_double = sq_row_double,
    .row_text = sq_row_text,
    .row_blob = sq_row_blob,
    .row_null = sq_row_null,
};
