/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store.h - amane's storage: the one interface domain modules use to read
 * and write, whatever the backend (SQLite embedded by default; PostgreSQL
 * behind the same interface, see store_int.h).
 *
 * Writes are commands. A command's apply() runs on the single writer thread
 * inside a transaction shared with other queued commands (group commit);
 * each command runs inside its own savepoint, so one that fails changes
 * nothing and does not disturb the others. A command is answered only after
 * the transaction is durable. Commands append events to the hash-chained
 * event log with store_append(); after commit the events are handed to the
 * on_commit hook (the bus) in sequence order.
 *
 * Reads run on reader connections, never on the writer.
 *
 * SQL uses `?` placeholders and the portable subset of SQL; parameters are
 * bound by a type string: 'i' int64_t, 'd' double, 't' const char * (NULL
 * binds SQL NULL), 'b' const void * followed by size_t.
 */
#ifndef AM_STORE_H
#define AM_STORE_H

#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

struct store;
struct store_conn;
struct store_row;

/* A forward-only schema change owned by a module; applied once, in version order. */
struct store_migration {
    const char *module; /* "auth", "cad", ... */
    int version;        /* 1, 2, ... per module */
    const char *sql;    /* one or more statements */
};

struct store_opts {
    const char *path; /* database file; its directory must exist */
    int readers;      /* reader connections, >= 1 */
    int max_batch;    /* commands per group commit; 1 = a transaction per command */
    bool sync_full;   /* fsync at every commit (synchronous=FULL) */
    const struct store_migration *migrations;
    size_t nmigrations;
    /*
     * Called on the writer thread after each commit with the events it made
     * durable (and any appended by another process since), in seq order.
     * The hook takes its own references if it keeps them. May be NULL.
     */
    void (*on_commit)(void *arg, struct am_event *const *evs, size_t n);
    void *on_commit_arg;
};

/*
 * Opens the database, applies pending migrations, and starts the writer.
 * Returns 0 and sets *out, or AM_EIO (cannot open/migrate, details logged).
 */
int store_open(struct store **out, const struct store_opts *opts);
/* Finishes queued commands, stops the writer and closes every connection. */
void store_close(struct store *st);

/* ------------------------------------------------------------- commands */

struct store_cmd;
typedef int (*store_apply_fn)(struct store_conn *c, struct store_cmd *cmd);
typedef void (*store_done_fn)(struct store_cmd *cmd);

#define STORE_IDEM_KEY_MAX 128

struct store_cmd {
    /* Set by the caller. */
    store_apply_fn apply;           /* required */
    void *arg;                      /* for apply */
    const char *actor;              /* who: recorded in each event; not NULL */
    const char *idem_key;           /* optional idempotency key (<= STORE_IDEM_KEY_MAX bytes) */
    const char *idem_scope;         /* keys are unique per scope (e.g. the user) */
    uint8_t idem_fp[AM_SHA256_LEN]; /* fingerprint of the request the key was sent with */
    store_done_fn done;             /* async completion (writer thread), or NULL to wait */
    void *done_arg;                 /* for done */

    /* Set by apply(): the answer, kept with the idempotency key. */
    int status;   /* e.g. an HTTP status */
    char *answer; /* malloc'd text; freed by the caller */

    /* Set by the store before completion. */
    int rc;             /* 0 committed; AM_E* from apply or from storage */
    bool replayed;      /* answered from an earlier command with the same key */
    bool idem_mismatch; /* the key was used before with another request (rc AM_ECONFLICT) */
    int64_t first_seq, last_seq; /* events appended (0 if none) */
    int64_t last_ts;             /* time of the last event appended, microseconds */

    /* Private. */
    sem_t sem_;
    struct store_cmd *next_;
    size_t ev_mark_;
};

/*
 * Queues `cmd` and waits until it is committed or failed; returns cmd->rc.
 * The caller owns cmd and frees cmd->answer.
 */
int store_write(struct store *st, struct store_cmd *cmd);
/*
 * Queues `cmd` and returns at once; cmd->done(cmd) runs on the writer thread
 * after commit. `cmd` must stay valid until then. AM_ECLOSED when stopping.
 */
int store_submit(struct store *st, struct store_cmd *cmd);

/*
 * Appends an event to the log, inside apply(). `type` is "module.verb"
 * (at most 63 bytes); `data` a JSON object (not stolen). Sets *seq_out if
 * not NULL. Fails with AM_EINVAL outside a command.
 */
int store_append(struct store_conn *c, struct store_cmd *cmd, const char *type, const json_t *data,
                 int64_t *seq_out);

/* ------------------------------------------------------------- reads */

typedef int (*store_read_fn)(struct store_conn *c, void *arg);
/* Runs fn on a reader connection (waits for a free one); returns fn's result. */
int store_read(struct store *st, store_read_fn fn, void *arg);

/* ------------------------------------------------------------- SQL */

/* Returns 0 to go on, > 0 to stop (store_query returns it), < 0 for an error. */
typedef int (*store_row_fn)(struct store_row *r, void *arg);

/* Runs a statement that returns no rows. AM_ECONFLICT on a constraint violation. */
int store_exec(struct store_conn *c, const char *sql, const char *types, ...);
/* Runs a query, calling fn for each row. 0 when rows ran out. */
int store_query(struct store_conn *c, const char *sql, store_row_fn fn, void *arg,
                const char *types, ...);
/* Rows changed by the last store_exec on this connection. */
int64_t store_changes(struct store_conn *c);
/* The row id of the last insert on this connection. */
int64_t store_last_id(struct store_conn *c);

int64_t store_row_i64(struct store_row *r, int col);
double store_row_double(struct store_row *r, int col);
/* Valid until the callback returns; "" for NULL. */
const char *store_row_text(struct store_row *r, int col);
const void *store_row_blob(struct store_row *r, int col, size_t *len);
bool store_row_null(struct store_row *r, int col);

/*
 * For bulk loads, inside apply(): drops the indexes of `table` that were
 * created by CREATE INDEX (plain ones; unique ones too if `unique`: then
 * duplicates are found only when store_indexes_restore builds them again,
 * which fails with AM_ECONFLICT) and keeps what builds them again, so that
 * millions of rows are indexed afterwards in one sorted pass each instead
 * of one by one in random key order. The indexes of column constraints
 * (UNIQUE, PRIMARY KEY) stay and check the rows as they come. Within the
 * command's transaction: readers keep the indexes of their snapshot, and a
 * failed command gets them back. store_indexes_restore builds them again
 * and frees *ix (NULL after); store_indexes_free only frees (for a command
 * that fails anyway).
 */
struct store_indexes;
int store_indexes_drop(struct store_conn *c, const char *table, bool unique,
                       struct store_indexes **out);
int store_indexes_restore(struct store_conn *c, struct store_indexes **ix);
void store_indexes_free(struct store_indexes **ix);

/* ------------------------------------------------------------- event log */

/*
 * Calls fn for each event with seq > since, in order, at most `limit`
 * events (0: no limit). The event passed is only valid during the call
 * (take a reference to keep it). Runs on a reader.
 */
int store_events_since(struct store *st, int64_t since, int64_t limit,
                       int (*fn)(struct am_event *ev, void *arg), void *arg);
/* The sequence number of the last committed event (0 if none). */
int64_t store_head_seq(struct store *st);

struct store_verify {
    int64_t verified;            /* events that verified */
    int64_t bad_seq;             /* first event that failed, 0 if none */
    char why[128];               /* what failed */
    uint8_t head[AM_SHA256_LEN]; /* hash of the last verified event */
};
/*
 * Walks the whole chain: sequence numbers must be 1..N without gaps and each
 * hash must equal SHA-256(previous hash || canonical event bytes).
 * Returns 0 if all verify, AM_ECORRUPT with out->bad_seq set otherwise.
 */
int store_verify_chain(struct store *st, struct store_verify *out);

/*
 * The canonical bytes an event's hash covers:
 * {"actor":A,"data":D,"seq":N,"ts":T,"type":Y} with D the stored data text.
 * Writes into `out` (released by the caller).
 */
int store_event_canonical(int64_t seq, int64_t ts_us, const char *type, const char *actor,
                          const char *data, size_t data_len, struct am_buf *out);

/* Counters for metrics: commits, commands, events, batch sizes. */
struct store_stats {
    uint64_t commits, commands, events, failed, replayed, queue_depth;
};
void store_stats_get(struct store *st, struct store_stats *out);

#endif
