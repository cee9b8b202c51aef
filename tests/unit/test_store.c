/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_store.c - unit tests of src/store on real SQLite files: migrations,
 * commands and their group commit (a failing command is undone alone), the
 * on_commit hook (in order, exactly once, also for events another process
 * appended), idempotency keys, the hash chain and its verification against
 * tampering, the append-only triggers, event replay, and many writers at
 * once. Each test works in a fresh database under its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

/* ------------------------------------------------------------- fixture */

/* What the on_commit hook saw: every event's seq, type and data, in call order. */
struct hook_log {
    pthread_mutex_t mu;
    size_t n, cap;
    int64_t *seq;
    char (*type)[64];
    char **data;
    int calls;
};

struct fixture {
    char dir[256];
    char path[300];
    struct store *st;
    struct hook_log hook;
};

static void hook_fn(void *arg, struct am_event *const *evs, size_t n)
{
    struct hook_log *h = arg;
    pthread_mutex_lock(&h->mu);
    h->calls++;
    for (size_t i = 0; i < n; i++) {
        if (h->n == h->cap) {
            h->cap = h->cap ? 2 * h->cap : 256;
            h->seq = realloc(h->seq, h->cap * sizeof(*h->seq));
            h->type = realloc(h->type, h->cap * sizeof(*h->type));
            h->data = realloc(h->data, h->cap * sizeof(*h->data));
            if (!h->seq || !h->type || !h->data)
                abort();
        }
        h->seq[h->n] = evs[i]->seq;
        am_strlcpy(h->type[h->n], evs[i]->type, sizeof(h->type[0]));
        h->data[h->n] = strdup(evs[i]->data);
        h->n++;
    }
    pthread_mutex_unlock(&h->mu);
}

static size_t hook_count(struct hook_log *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* Waits up to `ms` for the hook to have seen `n` events. */
static bool hook_wait(struct hook_log *h, size_t n, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (hook_count(h) >= n)
            return true;
        usleep(10000);
    }
    return hook_count(h) >= n;
}

/* The hook saw exactly the events 1..n, each once, in order. */
static void assert_hook_exactly(struct hook_log *h, int64_t n)
{
    pthread_mutex_lock(&h->mu);
    size_t got = h->n;
    int64_t bad = 0;
    for (size_t i = 0; i < got && !bad; i++)
        if (h->seq[i] != (int64_t)i + 1)
            bad = (int64_t)i + 1;
    pthread_mutex_unlock(&h->mu);
    if (bad)
        fail_msg("hook event #%lld has seq %lld", (long long)bad, (long long)h->seq[bad - 1]);
    if ((int64_t)got != n)
        fail_msg("hook saw %zu events, expected %lld", got, (long long)n);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int make_tmpdir(char *out, size_t outsz)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, outsz, "%s/amane-test-store-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || make_tmpdir(f->dir, sizeof(f->dir)))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
    pthread_mutex_init(&f->hook.mu, NULL);
    *state = f;
    return 0;
}

static void hook_reset(struct hook_log *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->data[i]);
    free(h->seq);
    free(h->type);
    free(h->data);
    h->seq = NULL;
    h->type = NULL;
    h->data = NULL;
    h->n = h->cap = 0;
    h->calls = 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    hook_reset(&f->hook);
    pthread_mutex_destroy(&f->hook.mu);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static const struct store_migration test_migrations[] = {
    {"test", 1, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"},
    {"test", 2, "ALTER TABLE items ADD COLUMN note TEXT; CREATE INDEX items_note ON items(note);"},
};
#define NTEST_MIGRATIONS (sizeof(test_migrations) / sizeof(test_migrations[0]))

static int open_at(const char *path, struct store **out, int max_batch, struct hook_log *hook,
                   const struct store_migration *m, size_t nm)
{
    struct store_opts o = {
        .path = path,
        .readers = 2,
        .max_batch = max_batch,
        .sync_full = false,
        .migrations = m,
        .nmigrations = nm,
        .on_commit = hook ? hook_fn : NULL,
        .on_commit_arg = hook,
    };
    return store_open(out, &o);
}

/* Opens the fixture's store with the test migrations and the recording hook. */
static void open_default(struct fixture *f, int max_batch)
{
    int rc = open_at(f->path, &f->st, max_batch, &f->hook, test_migrations, NTEST_MIGRATIONS);
    if (rc)
        fail_msg("store_open: %s", am_strerror(rc));
}

/* ------------------------------------------------------------- commands */

/* A command that inserts an item, appends events about it, and maybe fails. */
struct item {
    const char *name;
    int nevents;
    int fail;    /* returned after the writes, 0 to succeed */
    bool dup;    /* insert the name twice: a constraint violation after the events */
    int calls;   /* times apply ran (atomic) */
    sem_t *done; /* posted by item_done */
    char namebuf[32];
};

static int apply_item(struct store_conn *c, struct store_cmd *cmd)
{
    struct item *it = cmd->arg;
    __atomic_fetch_add(&it->calls, 1, __ATOMIC_RELAXED);
    int rc = store_exec(c, "INSERT INTO items(name) VALUES (?)", "t", it->name);
    for (int i = 0; !rc && i < it->nevents; i++) {
        json_t *d = json_pack("{ss si}", "name", it->name, "i", i);
        rc = d ? store_append(c, cmd, "test.item", d, NULL) : AM_ENOMEM;
        json_decref(d);
    }
    if (!rc && it->dup)
        rc = store_exec(c, "INSERT INTO items(name) VALUES (?)", "t", it->name);
    if (!rc && it->fail)
        rc = it->fail;
    if (!rc) {
        char answer[96];
        snprintf(answer, sizeof(answer), "{\"name\":\"%s\"}", it->name);
        cmd->status = 201;
        cmd->answer = strdup(answer);
    }
    return rc;
}

static void item_done(struct store_cmd *cmd)
{
    struct item *it = cmd->arg;
    sem_post(it->done);
}

static int write_item(struct store *st, const char *name, int nevents, struct store_cmd *cmd_out)
{
    struct item it = {.name = name, .nevents = nevents};
    struct store_cmd cmd = {.apply = apply_item, .arg = &it, .actor = "tester"};
    int rc = store_write(st, &cmd);
    if (cmd_out)
        *cmd_out = cmd;
    free(cmd.answer);
    if (cmd_out)
        cmd_out->answer = NULL;
    return rc;
}

/* Holds the writer thread inside apply() so that what is submitted meanwhile forms one group. */
struct gate {
    sem_t entered, release, done;
    struct store_cmd cmd;
};

static int apply_gate(struct store_conn *c, struct store_cmd *cmd)
{
    (void)c;
    struct gate *g = cmd->arg;
    sem_post(&g->entered);
    sem_wait(&g->release);
    return 0;
}

static void gate_done(struct store_cmd *cmd)
{
    struct gate *g = cmd->arg;
    sem_post(&g->done);
}

static void gate_close(struct store *st, struct gate *g)
{
    sem_init(&g->entered, 0, 0);
    sem_init(&g->release, 0, 0);
    sem_init(&g->done, 0, 0);
    g->cmd = (struct store_cmd){.apply = apply_gate, .arg = g, .actor = "gate", .done = gate_done};
    assert_int_equal(store_submit(st, &g->cmd), 0);
    sem_wait(&g->entered);
}

static void gate_open(struct gate *g)
{
    sem_post(&g->release);
    sem_wait(&g->done);
    assert_int_equal(g->cmd.rc, 0);
    sem_destroy(&g->entered);
    sem_destroy(&g->release);
    sem_destroy(&g->done);
}

/* ------------------------------------------------------------- reads */

struct i64_q {
    const char *sql;
    const char *text; /* optional 't' parameter */
    int64_t v;
};

static int i64_row(struct store_row *r, void *arg)
{
    ((struct i64_q *)arg)->v = store_row_i64(r, 0);
    return 0;
}

static int i64_read(struct store_conn *c, void *arg)
{
    struct i64_q *q = arg;
    if (q->text)
        return store_query(c, q->sql, i64_row, q, "t", q->text);
    return store_query(c, q->sql, i64_row, q, NULL);
}

/* A single integer from a query run on a reader; `sql` must be a string literal. */
static int64_t read_i64(struct store *st, const char *sql, const char *param)
{
    struct i64_q q = {sql, param, -1};
    int rc = store_read(st, i64_read, &q);
    if (rc)
        fail_msg("read '%s': %s", sql, am_strerror(rc));
    return q.v;
}

struct ev_list {
    size_t n, cap;
    struct am_event **evs;
    int stop_after; /* > 0: return 1 after this many */
};

static int collect_ev(struct am_event *ev, void *arg)
{
    struct ev_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->evs = realloc(l->evs, l->cap * sizeof(*l->evs));
        if (!l->evs)
            return AM_ENOMEM;
    }
    am_event_ref(ev);
    l->evs[l->n++] = ev;
    if (l->stop_after > 0 && (int)l->n == l->stop_after)
        return 1;
    return 0;
}

static void ev_list_free(struct ev_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        am_event_unref(l->evs[i]);
    free(l->evs);
    memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------- migrations */

static void test_open_applies_migrations(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    assert_int_equal(
        read_i64(f->st, "SELECT count(*) FROM schema_migrations WHERE module = ?", "test"), 2);
    assert_int_equal(
        read_i64(f->st, "SELECT max(version) FROM schema_migrations WHERE module = ?", "store"), 1);
    int64_t applied = read_i64(f->st,
                               "SELECT applied_us FROM schema_migrations WHERE module = ? "
                               "AND version = 2",
                               "test");
    /* Version 2's column and index exist. */
    assert_int_equal(read_i64(f->st,
                              "SELECT count(*) FROM pragma_table_info('items') WHERE "
                              "name = ?",
                              "note"),
                     1);
    assert_int_equal(write_item(f->st, "kept", 1, NULL), 0);
    store_close(f->st);
    f->st = NULL;

    /* Reopening applies nothing again (re-running version 2 would fail). */
    open_default(f, 64);
    assert_int_equal(
        read_i64(f->st, "SELECT count(*) FROM schema_migrations WHERE module = ?", "test"), 2);
    assert_true(read_i64(f->st,
                         "SELECT applied_us FROM schema_migrations WHERE module = ? "
                         "AND version = 2",
                         "test") == applied);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items WHERE name = ?", "kept"), 1);
    assert_int_equal(store_head_seq(f->st), 1);
    store_close(f->st);
    f->st = NULL;

    /* A program that knows only version 1 refuses a database at version 2. */
    struct store *st = (struct store *)&st;
    assert_int_equal(open_at(f->path, &st, 64, NULL, test_migrations, 1), AM_EIO);
    assert_ptr_equal(st, (struct store *)&st);

    /* A later version is applied alone. */
    const struct store_migration v3[] = {
        test_migrations[0],
        test_migrations[1],
        {"test", 3, "CREATE TABLE more (x INTEGER);"},
    };
    assert_int_equal(open_at(f->path, &f->st, 64, NULL, v3, 3), 0);
    assert_int_equal(
        read_i64(f->st, "SELECT count(*) FROM schema_migrations WHERE module = ?", "test"), 3);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM more", NULL), 0);
    store_close(f->st);
    f->st = NULL;

    /* A failing migration changes nothing and stops the open. */
    const struct store_migration bad[] = {
        v3[0],
        v3[1],
        v3[2],
        {"test", 4, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;"},
    };
    assert_int_not_equal(open_at(f->path, &st, 64, NULL, bad, 4), 0);
    /* A gap in a module's versions is refused too. */
    const struct store_migration gap[] = {
        v3[0],
        v3[1],
        v3[2],
        {"other", 1, "CREATE TABLE other1 (x INTEGER);"},
        {"other", 3, "CREATE TABLE other3 (x INTEGER);"},
    };
    assert_int_not_equal(open_at(f->path, &st, 64, NULL, gap, 5), 0);
    assert_int_equal(open_at(f->path, &f->st, 64, NULL, v3, 3), 0);
    assert_int_equal(
        read_i64(f->st, "SELECT max(version) FROM schema_migrations WHERE module = ?", "test"), 3);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM sqlite_master WHERE name = ?", "half"),
                     0);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM sqlite_master WHERE name = ?", "other3"),
                     0);

    /* Bad options. */
    struct store_opts o = {.path = NULL, .readers = 1, .max_batch = 1};
    assert_int_equal(store_open(&st, &o), AM_EINVAL);
    o.path = f->path;
    o.readers = 0;
    assert_int_equal(store_open(&st, &o), AM_EINVAL);
    o.readers = 1;
    o.max_batch = 0;
    assert_int_equal(store_open(&st, &o), AM_EINVAL);
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/no/such/dir/x.db", f->dir);
    o.path = missing;
    o.max_batch = 1;
    assert_int_equal(store_open(&st, &o), AM_EIO);
}

/* ------------------------------------------------------------- writes */

struct bad_append {
    int not_object, long_type, null_type;
    int64_t seq;
};

static int apply_bad_appends(struct store_conn *c, struct store_cmd *cmd)
{
    struct bad_append *b = cmd->arg;
    json_t *arr = json_array(), *obj = json_object();
    char type[65];
    memset(type, 't', 64);
    type[64] = '\0';
    b->not_object = store_append(c, cmd, "test.array", arr, NULL);
    b->long_type = store_append(c, cmd, type, obj, NULL);
    b->null_type = store_append(c, cmd, NULL, obj, NULL);
    /* 63 bytes is the longest type. */
    type[63] = '\0';
    int rc = store_append(c, cmd, type, obj, &b->seq);
    json_decref(arr);
    json_decref(obj);
    return rc;
}

static int read_append(struct store_conn *c, void *arg)
{
    json_t *obj = json_object();
    struct store_cmd cmd = {.actor = "reader"};
    int rc = store_append(c, &cmd, "test.read", obj, NULL);
    json_decref(obj);
    *(int *)arg = rc;
    return 0;
}

static void test_write_commits_and_is_visible(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    assert_int_equal(store_head_seq(f->st), 0);

    struct item it = {.name = "alpha", .nevents = 1};
    struct store_cmd cmd = {.apply = apply_item, .arg = &it, .actor = "tester"};
    assert_int_equal(store_write(f->st, &cmd), 0);
    assert_int_equal(cmd.rc, 0);
    assert_false(cmd.replayed);
    assert_int_equal(cmd.first_seq, 1);
    assert_int_equal(cmd.last_seq, 1);
    assert_int_equal(cmd.status, 201);
    assert_string_equal(cmd.answer, "{\"name\":\"alpha\"}");
    free(cmd.answer);
    /* Answered only after commit: visible at once on a reader. */
    assert_int_equal(store_head_seq(f->st), 1);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items WHERE name = ?", "alpha"), 1);

    struct store_cmd three;
    assert_int_equal(write_item(f->st, "الرباط", 3, &three), 0);
    assert_int_equal(three.first_seq, 2);
    assert_int_equal(three.last_seq, 4);
    struct store_cmd none;
    assert_int_equal(write_item(f->st, "ⵜⴰⵎⴰⵣⵉⵖⵜ", 0, &none), 0);
    assert_int_equal(none.first_seq, 0);
    assert_int_equal(none.last_seq, 0);
    assert_int_equal(store_head_seq(f->st), 4);

    struct ev_list l = {0};
    assert_int_equal(store_events_since(f->st, 0, 0, collect_ev, &l), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.evs[0]->seq, 1);
    assert_string_equal(l.evs[0]->type, "test.item");
    assert_string_equal(l.evs[0]->actor, "tester");
    /* Data is stored in canonical form: sorted keys, compact. */
    assert_string_equal(l.evs[0]->data, "{\"i\":0,\"name\":\"alpha\"}");
    assert_string_equal(l.evs[3]->data, "{\"i\":2,\"name\":\"الرباط\"}");
    assert_true(l.evs[0]->ts_us > 0);
    for (size_t i = 1; i < l.n; i++)
        assert_true(l.evs[i]->ts_us >= l.evs[i - 1]->ts_us);
    json_t *j = am_event_json(l.evs[1]);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "name")),
                        "الرباط");
    json_decref(j);
    ev_list_free(&l);

    /* store_append checks its arguments, and is refused outside a command. */
    struct bad_append b = {0};
    struct store_cmd bc = {.apply = apply_bad_appends, .arg = &b, .actor = "tester"};
    assert_int_equal(store_write(f->st, &bc), 0);
    free(bc.answer);
    assert_int_equal(b.not_object, AM_EINVAL);
    assert_int_equal(b.long_type, AM_EINVAL);
    assert_int_equal(b.null_type, AM_EINVAL);
    assert_int_equal(b.seq, 5);
    assert_int_equal(bc.first_seq, 5);
    assert_int_equal(store_head_seq(f->st), 5);
    int outside = 0;
    assert_int_equal(store_read(f->st, read_append, &outside), 0);
    assert_int_equal(outside, AM_EINVAL);
    assert_int_equal(store_head_seq(f->st), 5);

    /* A command needs an apply function; an actor-less one records "". */
    struct store_cmd noapply = {.actor = "tester"};
    assert_int_equal(store_write(f->st, &noapply), AM_EINVAL);
    struct item anon = {.name = "anon", .nevents = 1};
    struct store_cmd ac = {.apply = apply_item, .arg = &anon};
    assert_int_equal(store_write(f->st, &ac), 0);
    free(ac.answer);
    assert_int_equal(store_events_since(f->st, 5, 0, collect_ev, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.evs[0]->actor, "");
    ev_list_free(&l);

    struct store_stats s;
    store_stats_get(f->st, &s);
    assert_int_equal(s.commands, 5);
    assert_int_equal(s.events, 6);
    assert_int_equal(s.queue_depth, 0);
    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, 6);
}

/* ------------------------------------------------------------- group commit */

#define GROUP 24

static void test_failing_command_rolled_back_alone(void **state)
{
    struct fixture *f = *state;
    open_default(f, 512);
    assert_int_equal(write_item(f->st, "before", 1, NULL), 0);

    struct store_stats s0, s1;
    store_stats_get(f->st, &s0);
    sem_t done;
    sem_init(&done, 0, 0);
    struct item items[GROUP];
    struct store_cmd cmds[GROUP];
    struct gate g;
    gate_close(f->st, &g);
    for (int i = 0; i < GROUP; i++) {
        items[i] = (struct item){.nevents = 1 + i % 3, .done = &done};
        snprintf(items[i].namebuf, sizeof(items[i].namebuf), "item%02d", i);
        items[i].name = items[i].namebuf;
        /* Three ways to fail, at the start, in the middle and at the end of the group. */
        if (i == 0)
            items[i].fail = AM_EINVAL;
        if (i == 9)
            items[i].dup = true;
        if (i == GROUP - 1)
            items[i].fail = AM_EFORBIDDEN;
        cmds[i] = (struct store_cmd){
            .apply = apply_item, .arg = &items[i], .actor = "tester", .done = item_done};
        assert_int_equal(store_submit(f->st, &cmds[i]), 0);
    }
    store_stats_get(f->st, &s1);
    assert_int_equal(s1.queue_depth, GROUP);
    gate_open(&g);
    for (int i = 0; i < GROUP; i++)
        sem_wait(&done);
    sem_destroy(&done);

    /* The gate's command, then the whole group, each in one transaction. */
    store_stats_get(f->st, &s1);
    assert_int_equal(s1.commits - s0.commits, 2);
    assert_int_equal(s1.commands - s0.commands, GROUP + 1);
    assert_int_equal(s1.failed - s0.failed, 3);

    int64_t next = 2; /* "before" holds seq 1 */
    for (int i = 0; i < GROUP; i++) {
        bool failing = i == 0 || i == 9 || i == GROUP - 1;
        int64_t rows = read_i64(f->st, "SELECT count(*) FROM items WHERE name = ?", items[i].name);
        if (failing) {
            assert_int_equal(cmds[i].rc, i == 9 ? AM_ECONFLICT : items[i].fail);
            assert_int_equal(cmds[i].first_seq, 0);
            assert_int_equal(cmds[i].last_seq, 0);
            assert_int_equal(rows, 0);
        } else {
            assert_int_equal(cmds[i].rc, 0);
            assert_int_equal(rows, 1);
            /* Sequence numbers continue across the failures without a gap. */
            assert_int_equal(cmds[i].first_seq, next);
            assert_int_equal(cmds[i].last_seq, next + items[i].nevents - 1);
            next += items[i].nevents;
        }
        free(cmds[i].answer);
    }
    assert_int_equal(store_head_seq(f->st), next - 1);

    /* The log holds no event of a failed command, and its chain verifies. */
    struct ev_list l = {0};
    assert_int_equal(store_events_since(f->st, 0, 0, collect_ev, &l), 0);
    assert_int_equal(l.n, next - 1);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.evs[i]->seq, (int64_t)i + 1);
        assert_null(strstr(l.evs[i]->data, "item00"));
        assert_null(strstr(l.evs[i]->data, "item09"));
        assert_null(strstr(l.evs[i]->data, "item23"));
    }
    ev_list_free(&l);
    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, next - 1);
    assert_int_equal(v.bad_seq, 0);
    store_close(f->st);
    f->st = NULL;
    assert_hook_exactly(&f->hook, next - 1);
}

/* ------------------------------------------------------------- on_commit */

struct writer_thread {
    struct store *st;
    int id, n;
    int failures;   /* commands that did not commit */
    int64_t events; /* events appended by this thread's commands */
    bool fail_some; /* every 7th command fails after appending */
};

static void *writer_main(void *arg)
{
    struct writer_thread *w = arg;
    for (int i = 0; i < w->n; i++) {
        struct item it = {.nevents = 1 + i % 2};
        snprintf(it.namebuf, sizeof(it.namebuf), "w%d-%d", w->id, i);
        it.name = it.namebuf;
        if (w->fail_some && i % 7 == 3)
            it.fail = AM_EINVAL;
        struct store_cmd cmd = {.apply = apply_item, .arg = &it, .actor = "tester"};
        int rc = store_write(w->st, &cmd);
        free(cmd.answer);
        if (rc)
            w->failures++;
        else
            w->events += cmd.last_seq - cmd.first_seq + 1;
    }
    return NULL;
}

static void test_on_commit_in_order_exactly_once(void **state)
{
    struct fixture *f = *state;
    open_default(f, 16);
    enum { THREADS = 4, PER = 60 };
    pthread_t th[THREADS];
    struct writer_thread w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct writer_thread){.st = f->st, .id = i, .n = PER, .fail_some = true};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    int64_t events = 0;
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        events += w[i].events;
        failures += w[i].failures;
    }
    assert_int_equal(failures, THREADS * ((PER - 3 + 6) / 7));
    assert_int_equal(store_head_seq(f->st), events);
    store_close(f->st);
    f->st = NULL;
    assert_hook_exactly(&f->hook, events);
    assert_true(f->hook.calls >= 1 && f->hook.calls <= THREADS * PER);
    /* Only committed commands' events reached the hook. */
    for (size_t i = 0; i < f->hook.n; i++) {
        assert_string_equal(f->hook.type[i], "test.item");
        json_t *d = json_loads(f->hook.data[i], 0, NULL);
        assert_non_null(d);
        int k = -1;
        assert_int_equal(sscanf(json_string_value(json_object_get(d, "name")), "w%*d-%d", &k), 1);
        assert_int_not_equal(k % 7, 3);
        json_decref(d);
    }
    /* Reopening publishes nothing old again. */
    size_t before = hook_count(&f->hook);
    open_default(f, 16);
    usleep(700000); /* longer than the writer's idle poll */
    assert_int_equal(hook_count(&f->hook), before);
    assert_int_equal(write_item(f->st, "after", 1, NULL), 0);
    assert_true(hook_wait(&f->hook, before + 1, 3000));
    assert_hook_exactly(&f->hook, events + 1);
}

static void test_other_handle_events_reach_hook(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    /* A second handle on the same file, as the CLI opens it, without a hook. */
    struct store *cli = NULL;
    assert_int_equal(open_at(f->path, &cli, 64, NULL, test_migrations, NTEST_MIGRATIONS), 0);

    assert_int_equal(write_item(f->st, "srv1", 2, NULL), 0);
    assert_int_equal(write_item(cli, "cli1", 1, NULL), 0);
    assert_int_equal(write_item(cli, "cli2", 2, NULL), 0);
    /* The server's writer finds them when idle (it polls every 0.5 s). */
    assert_true(hook_wait(&f->hook, 5, 3000));
    for (int waited = 0; store_head_seq(f->st) < 5 && waited < 3000; waited += 10)
        usleep(10000);
    assert_int_equal(store_head_seq(f->st), 5);

    /* Interleaved: the CLI's event comes before the server's next one. */
    assert_int_equal(write_item(cli, "cli3", 1, NULL), 0);
    assert_int_equal(write_item(f->st, "srv2", 1, NULL), 0);
    assert_true(hook_wait(&f->hook, 7, 3000));
    assert_int_equal(write_item(f->st, "srv3", 1, NULL), 0);
    usleep(700000);
    assert_hook_exactly(&f->hook, 8);
    pthread_mutex_lock(&f->hook.mu);
    assert_non_null(strstr(f->hook.data[5], "cli3"));
    assert_non_null(strstr(f->hook.data[6], "srv2"));
    pthread_mutex_unlock(&f->hook.mu);

    /* One chain across both writers. */
    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, 8);
    assert_int_equal(store_verify_chain(cli, &v), 0);
    assert_int_equal(v.verified, 8);
    store_close(cli);
    store_close(f->st);
    f->st = NULL;
    assert_hook_exactly(&f->hook, 8);
}

/* ------------------------------------------------------------- close */

struct closer {
    struct store *st;
};

static void *closer_main(void *arg)
{
    store_close(((struct closer *)arg)->st);
    return NULL;
}

static void test_close_finishes_queued_commands(void **state)
{
    struct fixture *f = *state;
    open_default(f, 8);
    enum { QUEUED = 40, PROBES = 2000 };
    sem_t done;
    sem_init(&done, 0, 0);
    struct item *items = calloc(QUEUED + PROBES, sizeof(*items));
    struct store_cmd *cmds = calloc(QUEUED + PROBES, sizeof(*cmds));
    assert_non_null(items);
    assert_non_null(cmds);
    for (int i = 0; i < QUEUED + PROBES; i++) {
        snprintf(items[i].namebuf, sizeof(items[i].namebuf), "q%d", i);
        items[i].name = items[i].namebuf;
        items[i].nevents = 1;
        items[i].done = &done;
        cmds[i] = (struct store_cmd){
            .apply = apply_item, .arg = &items[i], .actor = "tester", .done = item_done};
    }
    struct gate g;
    gate_close(f->st, &g);
    for (int i = 0; i < QUEUED; i++)
        assert_int_equal(store_submit(f->st, &cmds[i]), 0);

    /* Close while the writer is held: it must wait, then finish the queue. */
    struct closer c = {f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, closer_main, &c), 0);
    /* Once closing has begun, new commands are refused. */
    int accepted = QUEUED, rc = 0;
    while (accepted < QUEUED + PROBES && (rc = store_submit(f->st, &cmds[accepted])) == 0) {
        accepted++;
        usleep(1000);
    }
    assert_int_equal(rc, AM_ECLOSED);
    sem_post(&g.release);
    pthread_join(th, NULL);
    f->st = NULL;
    /* Every accepted command ran and committed. */
    for (int i = 0; i < accepted; i++) {
        assert_int_equal(sem_trywait(&done), 0);
        assert_int_equal(cmds[i].rc, 0);
        assert_true(cmds[i].first_seq > 0);
        free(cmds[i].answer);
    }
    assert_int_equal(sem_trywait(&done), -1);
    assert_int_equal(g.cmd.rc, 0);
    sem_destroy(&done);
    sem_destroy(&g.entered);
    sem_destroy(&g.release);
    sem_destroy(&g.done);
    assert_hook_exactly(&f->hook, accepted);

    open_default(f, 8);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items", NULL), accepted);
    free(items);
    free(cmds);
}

/* ------------------------------------------------------------- idempotency */

static int idem_write(struct store *st, struct item *it, const char *scope, const char *key,
                      uint8_t fpbyte, struct store_cmd *out)
{
    *out = (struct store_cmd){
        .apply = apply_item, .arg = it, .actor = "tester", .idem_key = key, .idem_scope = scope};
    memset(out->idem_fp, fpbyte, sizeof(out->idem_fp));
    return store_write(st, out);
}

static void test_idempotency(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    struct item first = {.name = "first", .nevents = 2};
    struct store_cmd c1, c2, c3, c4;
    assert_int_equal(idem_write(f->st, &first, "alice", "key-1", 0xaa, &c1), 0);
    assert_false(c1.replayed);
    assert_int_equal(c1.first_seq, 1);
    assert_int_equal(c1.last_seq, 2);

    /* Same key, same request: the first answer again, nothing run or appended. */
    struct item again = {.name = "again", .nevents = 1};
    assert_int_equal(idem_write(f->st, &again, "alice", "key-1", 0xaa, &c2), 0);
    assert_true(c2.replayed);
    assert_false(c2.idem_mismatch);
    assert_int_equal(again.calls, 0);
    assert_int_equal(c2.status, 201);
    assert_string_equal(c2.answer, c1.answer);
    assert_int_equal(c2.first_seq, 1);
    assert_int_equal(c2.last_seq, 2);
    assert_int_equal(store_head_seq(f->st), 2);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items", NULL), 1);

    /* Same key, another request: a conflict, and still nothing run. */
    assert_int_equal(idem_write(f->st, &again, "alice", "key-1", 0xbb, &c3), AM_ECONFLICT);
    assert_int_equal(c3.rc, AM_ECONFLICT);
    assert_true(c3.idem_mismatch);
    assert_false(c3.replayed);
    assert_int_equal(again.calls, 0);
    assert_int_equal(c3.first_seq, 0);
    assert_int_equal(store_head_seq(f->st), 2);

    /* Keys are per scope: Bob's "key-1" is his own. */
    assert_int_equal(idem_write(f->st, &again, "bob", "key-1", 0xbb, &c4), 0);
    assert_false(c4.replayed);
    assert_int_equal(again.calls, 1);
    assert_int_equal(c4.first_seq, 3);
    assert_string_equal(c4.answer, "{\"name\":\"again\"}");
    free(c1.answer);
    free(c2.answer);
    free(c3.answer);
    free(c4.answer);

    /* A failed command does not consume its key: the retry runs. */
    struct item broken = {.name = "broken", .nevents = 1, .fail = AM_EINVAL};
    assert_int_equal(idem_write(f->st, &broken, "alice", "key-2", 0x01, &c1), AM_EINVAL);
    broken.fail = 0;
    assert_int_equal(idem_write(f->st, &broken, "alice", "key-2", 0x01, &c2), 0);
    assert_false(c2.replayed);
    assert_int_equal(broken.calls, 2);
    free(c1.answer);
    free(c2.answer);

    /* Key length limits. */
    char longkey[STORE_IDEM_KEY_MAX + 2];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    struct item lim = {.name = "limit", .nevents = 0};
    assert_int_equal(idem_write(f->st, &lim, "alice", longkey, 0x02, &c1), AM_EINVAL);
    assert_int_equal(idem_write(f->st, &lim, "alice", "", 0x02, &c1), AM_EINVAL);
    assert_int_equal(lim.calls, 0);
    longkey[STORE_IDEM_KEY_MAX] = '\0';
    assert_int_equal(idem_write(f->st, &lim, "alice", longkey, 0x02, &c1), 0);
    free(c1.answer);

    /* Two commands with one key in the same group: the second is a replay. */
    sem_t done;
    sem_init(&done, 0, 0);
    struct item x = {.name = "x", .nevents = 1, .done = &done};
    struct item y = {.name = "y", .nevents = 1, .done = &done};
    struct store_cmd cx = {.apply = apply_item,
                           .arg = &x,
                           .actor = "tester",
                           .idem_key = "key-3",
                           .idem_scope = "alice",
                           .done = item_done};
    struct store_cmd cy = cx;
    cy.arg = &y;
    struct gate g;
    gate_close(f->st, &g);
    assert_int_equal(store_submit(f->st, &cx), 0);
    assert_int_equal(store_submit(f->st, &cy), 0);
    gate_open(&g);
    sem_wait(&done);
    sem_wait(&done);
    sem_destroy(&done);
    assert_int_equal(cx.rc, 0);
    assert_int_equal(cy.rc, 0);
    assert_false(cx.replayed);
    assert_true(cy.replayed);
    assert_int_equal(y.calls, 0);
    assert_int_equal(cy.first_seq, cx.first_seq);
    free(cx.answer);
    free(cy.answer);

    /* Keys survive a restart. */
    int64_t head = store_head_seq(f->st);
    store_close(f->st);
    f->st = NULL;
    open_default(f, 64);
    struct item late = {.name = "late", .nevents = 1};
    assert_int_equal(idem_write(f->st, &late, "alice", "key-1", 0xaa, &c1), 0);
    assert_true(c1.replayed);
    assert_int_equal(c1.first_seq, 1);
    assert_int_equal(late.calls, 0);
    assert_int_equal(store_head_seq(f->st), head);
    free(c1.answer);
}

/* ------------------------------------------------------------- the chain */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("sqlite3_open_v2 %s", path);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s", sql, err ? err : "?");
        sqlite3_free(err);
        fail_msg("%s", msg);
    }
}

static void write_events(struct store *st, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "ev%d", i + 1);
        assert_int_equal(write_item(st, name, 1, NULL), 0);
    }
}

static void test_verify_good_chain(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    struct store_verify v;
    /* An empty log verifies. */
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, 0);
    assert_int_equal(v.bad_seq, 0);
    write_events(f->st, 10);
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, 10);
    assert_int_equal(v.bad_seq, 0);

    /* Each hash is SHA-256(previous hash || canonical event), from 32 zero bytes. */
    struct ev_list l = {0};
    assert_int_equal(store_events_since(f->st, 0, 0, collect_ev, &l), 0);
    uint8_t prev[AM_SHA256_LEN] = {0};
    for (size_t i = 0; i < l.n; i++) {
        struct am_event *ev = l.evs[i];
        struct am_buf b;
        am_buf_init(&b, 0);
        assert_int_equal(am_buf_append(&b, prev, AM_SHA256_LEN), 0);
        assert_int_equal(store_event_canonical(ev->seq, ev->ts_us, ev->type, ev->actor, ev->data,
                                               ev->data_len, &b),
                         0);
        am_sha256(b.data, b.len, prev);
        assert_memory_equal(prev, ev->hash, AM_SHA256_LEN);
        am_buf_release(&b);
    }
    assert_memory_equal(v.head, prev, AM_SHA256_LEN);
    ev_list_free(&l);

    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(store_event_canonical(7, 123, "test.x", "ama\"ne", "{\"k\":1}", 7, &b), 0);
    assert_string_equal(b.data, "{\"actor\":\"ama\\\"ne\",\"data\":{\"k\":1},\"seq\":7,\"ts\":123,"
                                "\"type\":\"test.x\"}");
    am_buf_release(&b);
}

struct tamper {
    const char *sql;
    int64_t bad_seq;
    int64_t verified;
};

static void test_verify_detects_tampering(void **state)
{
    struct fixture *f = *state;
    static const struct tamper cases[] = {
        {"UPDATE events SET data = '{\"i\":0,\"name\":\"forged\"}' WHERE seq = 3", 3, 2},
        {"UPDATE events SET type = 'test.other' WHERE seq = 2", 2, 1},
        {"UPDATE events SET actor = 'someone' WHERE seq = 5", 5, 4},
        {"UPDATE events SET ts_us = ts_us + 1 WHERE seq = 4", 4, 3},
        {"UPDATE events SET hash = zeroblob(32) WHERE seq = 6", 6, 5},
        {"UPDATE events SET hash = x'00' WHERE seq = 1", 1, 0},
        {"DELETE FROM events WHERE seq = 3", 3, 2},
        {"DELETE FROM events WHERE seq = 1", 1, 0},
        {"UPDATE events SET seq = 10 WHERE seq = 6", 6, 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dir[256], path[300];
        assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
        snprintf(path, sizeof(path), "%s/tamper.db", dir);
        struct store *st = NULL;
        assert_int_equal(open_at(path, &st, 64, NULL, test_migrations, NTEST_MIGRATIONS), 0);
        write_events(st, 6);
        struct store_verify v;
        assert_int_equal(store_verify_chain(st, &v), 0);

        /* Through SQLite itself, as someone with the file would. */
        sqlite3 *db = raw_open(path);
        raw_exec(db, "DROP TRIGGER events_append_only_u; DROP TRIGGER events_append_only_d;");
        raw_exec(db, cases[i].sql);
        sqlite3_close(db);

        int rc = store_verify_chain(st, &v);
        if (rc != AM_ECORRUPT || v.bad_seq != cases[i].bad_seq || v.verified != cases[i].verified)
            fail_msg("%s: rc %s bad_seq %lld verified %lld (%s)", cases[i].sql, am_strerror(rc),
                     (long long)v.bad_seq, (long long)v.verified, v.why);
        assert_true(strlen(v.why) > 0);
        store_close(st);
        remove_tree(dir);
    }

    /* Rewriting an event together with its own hash breaks the next link. */
    open_default(f, 64);
    write_events(f->st, 6);
    struct ev_list l = {0};
    assert_int_equal(store_events_since(f->st, 2, 2, collect_ev, &l), 0);
    assert_int_equal(l.n, 2);
    const char *forged = "{\"i\":0,\"name\":\"forged\"}";
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_append(&b, l.evs[0]->hash, AM_SHA256_LEN), 0);
    assert_int_equal(store_event_canonical(4, l.evs[1]->ts_us, l.evs[1]->type, l.evs[1]->actor,
                                           forged, strlen(forged), &b),
                     0);
    uint8_t h[AM_SHA256_LEN];
    am_sha256(b.data, b.len, h);
    char hex[2 * AM_SHA256_LEN + 1];
    am_hex(h, AM_SHA256_LEN, hex);
    char sql[512];
    snprintf(sql, sizeof(sql), "UPDATE events SET data = '%s', hash = x'%s' WHERE seq = 4", forged,
             hex);
    am_buf_release(&b);
    ev_list_free(&l);
    sqlite3 *db = raw_open(f->path);
    raw_exec(db, "DROP TRIGGER events_append_only_u; DROP TRIGGER events_append_only_d;");
    raw_exec(db, sql);
    sqlite3_close(db);
    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), AM_ECORRUPT);
    assert_int_equal(v.bad_seq, 5);
    assert_int_equal(v.verified, 4);
}

/* ------------------------------------------------------------- append-only */

static int apply_sql(struct store_conn *c, struct store_cmd *cmd)
{
    return store_exec(c, (const char *)cmd->arg, NULL);
}

static int run_sql_cmd(struct store *st, const char *sql)
{
    struct store_cmd cmd = {.apply = apply_sql, .arg = (void *)sql, .actor = "tester"};
    int rc = store_write(st, &cmd);
    free(cmd.answer);
    return rc;
}

/*
 * The writer never checkpoints: a thread of the store does, soon after the
 * commits, so the pages reach the database file while the store is open (a
 * few hundred pages, which SQLite's automatic checkpoint would have left in
 * the log until 1,000), and a reader sees everything throughout.
 */
static void test_checkpoints_off_the_writer(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    struct stat before;
    assert_int_equal(stat(f->path, &before), 0);
    char sql[256];
    for (int i = 0; i < 200; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO items(name, note) VALUES ('ck-%d', printf('%%.3000c', 'x'))", i);
        assert_int_equal(run_sql_cmd(f->st, sql), 0);
    }
    /* At most 200 ms after the last commit, plus the copy itself. */
    struct stat after = before;
    for (int t = 0; t < 100 && after.st_size < before.st_size + 200 * 3000; t++) {
        usleep(20000);
        assert_int_equal(stat(f->path, &after), 0);
    }
    assert_true(after.st_size >= before.st_size + 200 * 3000);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items WHERE name LIKE ?", "ck-%"), 200);
    /* Through a connection of another process's kind: the same rows, from the file. */
    sqlite3 *db = raw_open(f->path);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM items", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 200);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_append_only_triggers(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    write_events(f->st, 3);

    /* From outside, through SQLite. */
    sqlite3 *db = raw_open(f->path);
    static const char *const refused[] = {
        "UPDATE events SET data = '{}' WHERE seq = 2",
        "UPDATE events SET seq = 9 WHERE seq = 3",
        "DELETE FROM events WHERE seq = 1",
        "DELETE FROM events",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *err = NULL;
        int rc = sqlite3_exec(db, refused[i], NULL, NULL, &err);
        if ((rc & 0xff) != SQLITE_CONSTRAINT || !err || !strstr(err, "append-only"))
            fail_msg("%s: rc %d (%s)", refused[i], rc, err ? err : "");
        sqlite3_free(err);
    }
    sqlite3_close(db);

    /* From inside a command: the command fails and changes nothing. */
    assert_int_equal(run_sql_cmd(f->st, "UPDATE events SET actor = 'x' WHERE seq = 1"),
                     AM_ECONFLICT);
    assert_int_equal(run_sql_cmd(f->st, "DELETE FROM events WHERE seq = 3"), AM_ECONFLICT);
    assert_int_equal(run_sql_cmd(f->st, "UPDATE OR REPLACE events SET seq = 2 WHERE seq = 1"),
                     AM_ECONFLICT);
    assert_int_equal(run_sql_cmd(f->st, "INSERT INTO events(seq, ts_us, type, actor, data, hash) "
                                        "VALUES (2, 0, 'x', 'x', '{}', x'00') ON CONFLICT(seq) "
                                        "DO UPDATE SET data = excluded.data"),
                     AM_ECONFLICT);
    /* A plain INSERT over an existing event is a conflict too. */
    assert_int_equal(run_sql_cmd(f->st, "INSERT INTO events(seq, ts_us, type, actor, data, hash) "
                                        "VALUES (2, 0, 'x', 'x', '{}', x'00')"),
                     AM_ECONFLICT);

    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, 3);
    assert_int_equal(store_head_seq(f->st), 3);
}

/*
 * INSERT OR REPLACE deletes the row it replaces, and with SQLite's default
 * recursive_triggers=OFF that delete does not fire events_append_only_d: a
 * command could silently rewrite history.
 */
static void test_append_only_survives_replace(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    write_events(f->st, 3);
    int rc1 = run_sql_cmd(f->st, "INSERT OR REPLACE INTO events(seq, ts_us, type, actor, data, "
                                 "hash) VALUES (2, 0, 'x', 'x', '{}', x'00')");
    int rc2 = run_sql_cmd(f->st, "REPLACE INTO events(seq, ts_us, type, actor, data, hash) "
                                 "VALUES (3, 0, 'x', 'x', '{}', x'00')");
    struct store_verify v;
    int vrc = store_verify_chain(f->st, &v);
    if (rc1 != AM_ECONFLICT || rc2 != AM_ECONFLICT || vrc != 0)
        fail_msg("REPLACE over events: rc %s / %s; chain afterwards: %s (bad_seq %lld)",
                 am_strerror(rc1), am_strerror(rc2), am_strerror(vrc), (long long)v.bad_seq);
    assert_int_equal(v.verified, 3);
}

/* ------------------------------------------------------------- replay */

static void expect_since(struct store *st, int64_t since, int64_t limit, int64_t first,
                         int64_t count)
{
    struct ev_list l = {0};
    int rc = store_events_since(st, since, limit, collect_ev, &l);
    if (rc || (int64_t)l.n != count)
        fail_msg("since %lld limit %lld: rc %d, %zu events, expected %lld", (long long)since,
                 (long long)limit, rc, l.n, (long long)count);
    for (size_t i = 0; i < l.n; i++)
        assert_int_equal(l.evs[i]->seq, first + (int64_t)i);
    ev_list_free(&l);
}

static void test_events_since(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    expect_since(f->st, 0, 0, 1, 0);
    write_events(f->st, 10);
    expect_since(f->st, 0, 0, 1, 10);
    expect_since(f->st, 0, 3, 1, 3);
    expect_since(f->st, 7, 0, 8, 3);
    expect_since(f->st, 8, 5, 9, 2);
    expect_since(f->st, 4, 1, 5, 1);
    expect_since(f->st, 10, 0, 11, 0);
    expect_since(f->st, 99, 10, 100, 0);
    expect_since(f->st, -5, 0, 1, 10);
    expect_since(f->st, 0, -1, 1, 10);

    /* A callback that returns > 0 stops the walk; its value comes back. */
    struct ev_list l = {.stop_after = 4};
    assert_int_equal(store_events_since(f->st, 0, 0, collect_ev, &l), 1);
    assert_int_equal(l.n, 4);
    /* The references taken outlive the walk. */
    assert_string_equal(l.evs[3]->data, "{\"i\":0,\"name\":\"ev4\"}");
    ev_list_free(&l);
}

/* ------------------------------------------------------------- nested queries */

#define INNER_SQL 200

struct nested {
    struct store_conn *conn;
    char *sql[INNER_SQL];
    int next;
    int64_t outer_rows, inner_sum;
};

static int inner_row(struct store_row *r, void *arg)
{
    ((struct nested *)arg)->inner_sum += store_row_i64(r, 0);
    return 0;
}

/* For each event, a few statements the connection has not seen yet. */
static int outer_row(struct store_row *r, void *arg)
{
    struct nested *n = arg;
    n->outer_rows++;
    for (int k = 0; k < 20 && n->next < INNER_SQL; k++) {
        int rc = store_query(n->conn, n->sql[n->next++], inner_row, n, NULL);
        if (rc)
            return rc;
    }
    /* The outer row is still readable after the inner queries. */
    return store_row_i64(r, 0) == n->outer_rows ? 0 : AM_EINTERNAL;
}

static int nested_read(struct store_conn *c, void *arg)
{
    ((struct nested *)arg)->conn = c;
    return store_query(c, "SELECT seq FROM events ORDER BY seq", outer_row, arg, NULL);
}

/*
 * A row callback may run other queries on its connection. Each new statement
 * goes into a 64-entry cache; evicting the statement still being stepped by
 * the outer query would free it under the caller's feet.
 */
static void test_nested_queries(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    write_events(f->st, 10);
    struct nested n = {0};
    for (int i = 0; i < INNER_SQL; i++) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT %d", i);
        n.sql[i] = strdup(sql);
        assert_non_null(n.sql[i]);
    }
    int rc = store_read(f->st, nested_read, &n);
    for (int i = 0; i < INNER_SQL; i++)
        free(n.sql[i]);
    if (rc)
        fail_msg("the outer query went wrong at row %lld, after %d inner statements: %s",
                 (long long)n.outer_rows, n.next, am_strerror(rc));
    assert_int_equal(n.outer_rows, 10);
    assert_int_equal(n.inner_sum, INNER_SQL * (INNER_SQL - 1) / 2);
}

/* ------------------------------------------------------------- bulk loads */

static int i64_of(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

/* The indexes on items, or -1 (no cmocka assertion here: apply runs on the writer thread). */
static int64_t items_indexes(struct store_conn *c)
{
    int64_t n = -1;
    if (store_query(
            c, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'",
            i64_of, &n, ""))
        return -1;
    return n;
}

struct bulk {
    bool unique;         /* unique indexes dropped too */
    const char *rows;    /* inserted while dropped */
    const char *dup;     /* a duplicate of the column's own unique key, or NULL */
    int fail;            /* returned after the rows, to roll back */
    int64_t during;      /* indexes on items while dropped */
    int rows_rc, dup_rc; /* what the inserts gave */
};

static int apply_bulk(struct store_conn *c, struct store_cmd *cmd)
{
    struct bulk *b = cmd->arg;
    struct store_indexes *ix = NULL;
    int rc = store_indexes_drop(c, "items", b->unique, &ix);
    if (rc)
        return rc;
    b->during = items_indexes(c);
    rc = b->rows_rc = store_exec(c, b->rows, "");
    if (b->dup)
        b->dup_rc = store_exec(c, b->dup, "");
    if (!rc && b->fail)
        rc = b->fail;
    if (!rc)
        rc = store_indexes_restore(c, &ix);
    if (!rc && ix)
        rc = AM_EINTERNAL; /* restore frees and clears it */
    store_indexes_free(&ix);
    return rc;
}

static int read_indexes(struct store_conn *c, void *arg)
{
    struct store_indexes *ix = NULL;
    /* Not in a command: refused. */
    assert_int_equal(store_indexes_drop(c, "items", false, &ix), AM_EINVAL);
    assert_null(ix);
    *(int64_t *)arg = items_indexes(c);
    return 0;
}

static int read_items(struct store_conn *c, void *arg)
{
    return store_query(c, "SELECT count(*) FROM items WHERE name LIKE 'bulk%' OR name LIKE 'u_'",
                       i64_of, arg, "");
}

/* Runs a bulk load; then the indexes and the rows of items are as expected. */
static void run_bulk(struct fixture *f, struct bulk *b, int want_rc, int64_t want_indexes,
                     int64_t want_rows)
{
    struct store_cmd cmd = {.apply = apply_bulk, .arg = b, .actor = "test"};
    assert_int_equal(store_write(f->st, &cmd), want_rc);
    free(cmd.answer);
    assert_int_equal(b->during, 1); /* items.name's own stays */
    int64_t indexes = 0, rows = -1;
    assert_int_equal(store_read(f->st, read_indexes, &indexes), 0);
    assert_int_equal(indexes, want_indexes);
    assert_int_equal(store_read(f->st, read_items, &rows), 0);
    assert_int_equal(rows, want_rows);
}

/*
 * A bulk load drops the plain indexes (the unique one stays and still
 * refuses a duplicate), builds them again after its rows; a load that
 * fails gets them back with the rollback.
 */
static void test_bulk_indexes(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    int64_t before = 0;
    assert_int_equal(store_read(f->st, read_indexes, &before), 0);
    assert_int_equal(before, 2); /* items.name UNIQUE, items_note */
    const char *insert = "INSERT INTO items(name, note) VALUES ('bulk1', 'n1'), ('bulk2', 'n2')";
    const char *dup = "INSERT INTO items(name) VALUES ('bulk1')";
    struct bulk failing = {.rows = insert, .dup = dup, .fail = AM_EINVAL};
    run_bulk(f, &failing, AM_EINVAL, 2, 0);
    assert_int_equal(failing.dup_rc, AM_ECONFLICT);
    struct bulk good = {.rows = insert, .dup = dup};
    run_bulk(f, &good, 0, 2, 2);
    assert_int_equal(good.dup_rc, AM_ECONFLICT);
}

static int apply_unique_index(struct store_conn *c, struct store_cmd *cmd)
{
    (void)cmd;
    return store_exec(c, "CREATE UNIQUE INDEX items_note_u ON items(note)", "");
}

static void test_bulk_unique_indexes(void **state)
{
    struct fixture *f = *state;
    open_default(f, 64);
    struct store_cmd cmd = {.apply = apply_unique_index, .actor = "test"};
    assert_int_equal(store_write(f->st, &cmd), 0);
    free(cmd.answer);
    int64_t before = 0;
    assert_int_equal(store_read(f->st, read_indexes, &before), 0);
    assert_int_equal(before, 3); /* items.name UNIQUE, items_note, items_note_u */
    /* Unique indexes dropped too: a duplicate goes in, and building the index again refuses it. */
    struct bulk b = {.unique = true,
                     .rows = "INSERT INTO items(name, note) VALUES ('u1', 'same'), ('u2', 'same')"};
    run_bulk(f, &b, AM_ECONFLICT, 3, 0);
    assert_int_equal(b.rows_rc, 0); /* nothing checks the note meanwhile */
}

/* ------------------------------------------------------------- concurrency */

static void run_writers(struct fixture *f, int threads, int per)
{
    pthread_t th[16];
    struct writer_thread w[16];
    assert_true(threads <= 16);
    struct store_stats s0, s1;
    store_stats_get(f->st, &s0);
    for (int i = 0; i < threads; i++) {
        w[i] = (struct writer_thread){.st = f->st, .id = i, .n = per};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    int64_t events = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
        events += w[i].events;
    }
    int64_t n = (int64_t)threads * per;
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM items", NULL), n);
    assert_int_equal(store_head_seq(f->st), events);
    assert_int_equal(read_i64(f->st, "SELECT count(*) FROM events", NULL), events);
    store_stats_get(f->st, &s1);
    assert_int_equal(s1.commands - s0.commands, n);
    assert_int_equal(s1.failed - s0.failed, 0);
    assert_int_equal(s1.events - s0.events, events);
    assert_true(s1.commits - s0.commits <= (uint64_t)n);
    struct store_verify v;
    assert_int_equal(store_verify_chain(f->st, &v), 0);
    assert_int_equal(v.verified, events);
}

static void test_concurrent_writers(void **state)
{
    struct fixture *f = *state;
    open_default(f, 512);
    run_writers(f, 16, 200);
    store_close(f->st);
    f->st = NULL;
    assert_hook_exactly(&f->hook, hook_count(&f->hook));
    assert_int_equal(hook_count(&f->hook), 16 * 200 + 16 * 100);
}

static void test_concurrent_writers_batch_of_one(void **state)
{
    struct fixture *f = *state;
    open_default(f, 1);
    struct store_stats s0, s1;
    store_stats_get(f->st, &s0);
    run_writers(f, 16, 200);
    store_stats_get(f->st, &s1);
    /* max_batch=1: a transaction per command. */
    assert_int_equal(s1.commits - s0.commits, s1.commands - s0.commands);
}

/*
 * The canonical bytes escape strings exactly as jansson does: chains written
 * before the store stopped using jansson for them must still verify.
 */
static void test_canonical_matches_jansson(void **state)
{
    (void)state;
    static const char *const strs[] = {
        "cli:root", "", "a\"b\\c/d", "\n\t\r\b\f", "\x01\x1f\x7f", "محمد · Mohammed ⵜⴰⵎⴰⵣⵉⵖⵜ 🚓"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        struct am_buf b;
        am_buf_init(&b, 0);
        assert_int_equal(store_event_canonical(5, 7, strs[i], strs[i], "{}", 2, &b), 0);
        json_t *js = json_string(strs[i]);
        char *q = json_dumps(js, JSON_ENCODE_ANY);
        char want[512];
        snprintf(want, sizeof(want), "{\"actor\":%s,\"data\":{},\"seq\":5,\"ts\":7,\"type\":%s}", q,
                 q);
        assert_string_equal(b.data, want);
        free(q);
        json_decref(js);
        am_buf_release(&b);
    }
}

int main(void)
{
    am_log_set_level(AM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_matches_jansson),
        cmocka_unit_test_setup_teardown(test_open_applies_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_commits_and_is_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_command_rolled_back_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_commit_in_order_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_handle_events_reach_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_finishes_queued_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_good_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_detects_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only_triggers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only_survives_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_unique_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_batch_of_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_off_the_writer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
