/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_int.h - private to src/store: the backend interface and the
 * connection and row types behind store.h.
 *
 * A backend supplies connections and runs SQL; everything else (the writer
 * thread, group commit, savepoints, the event chain, idempotency,
 * migrations) is written once in store.c on top of it. SQLite is the only
 * backend built today. A PostgreSQL backend (libpq) implements the same
 * table: `?` placeholders rewritten to `$n` at prepare time, begin_write as
 * plain BEGIN (row locks instead of SQLite's database lock), blobs as bytea,
 * and migrations carrying a dialect field when the SQL differs.
 */
#ifndef AM_STORE_INT_H
#define AM_STORE_INT_H

#include <stdarg.h>

#include "store/store.h"

struct store_backend {
    const char *name;
    /* Opens a connection; `writer` connections may write, readers are query-only. */
    int (*open)(const char *path, bool writer, bool sync_full, void **out);
    void (*close)(void *h);
    /* Runs a script of statements without parameters (migrations, BEGIN, COMMIT). */
    int (*script)(void *h, const char *sql);
    /* Prepares (cached), binds, steps through rows. */
    int (*run)(struct store_conn *c, const char *sql, store_row_fn fn, void *arg, const char *types,
               va_list ap);
    int64_t (*changes)(void *h);
    int64_t (*last_id)(void *h);
    /* Starts a write transaction that excludes other writers. */
    int (*begin_write)(void *h);
    /*
     * Copies committed pages from the write-ahead log into the database on a
     * connection of its own (not the writer's): `restart` also waits for the
     * writer and the readers so that the log starts again from its beginning.
     * Sets *log_pages to the pages in the log and *done_pages to those copied.
     * NULL for a backend without a log to checkpoint.
     */
    int (*checkpoint)(void *h, bool restart, int *log_pages, int *done_pages);
    /*
     * The indexes of `table` that a statement made (not those of its
     * columns' constraints), unique ones too if `unique`: fn gets rows of
     * (name, the statement that creates it).
     */
    int (*plain_indexes)(struct store_conn *c, const char *table, bool unique, store_row_fn fn,
                         void *arg);
    int64_t (*row_i64)(void *row, int col);
    double (*row_double)(void *row, int col);
    const char *(*row_text)(void *row, int col);
    const void *(*row_blob)(void *row, int col, size_t *len);
    bool (*row_null)(void *row, int col);
};

extern const struct store_backend store_sqlite_backend;

struct store_conn {
    const struct store_backend *be;
    void *h;
    struct store *st;
    bool in_command;         /* store_append allowed */
    struct store_conn *next; /* free list of readers */
};

struct store_row {
    struct store_conn *c;
    void *impl;
};

#endif
