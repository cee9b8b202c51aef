/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * records.c - the records service: rows of persons, vehicles and hotlist
 * entries (written one by one by analysts, or in bulk by imports), the
 * name index and the active hotlist held in memory and kept current from
 * the module's events, and exports.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "records/records_int.h"

/* ------------------------------------------------------------- rows */

/* A list field as JSON text: ["a","b"] (items were checked: no control characters). */
static int list_text(struct am_buf *b, const char *items, size_t stride, int n)
{
    b->len = 0;
    int rc = am_buf_append(b, "[", 1);
    for (int i = 0; !rc && i < n; i++) {
        const char *s = items + (size_t)i * stride;
        rc = am_buf_append(b, i ? ",\"" : "\"", i ? 2 : 1);
        for (; !rc && *s; s++) {
            if (*s == '"' || *s == '\\')
                rc = am_buf_append(b, "\\", 1);
            if (!rc)
                rc = am_buf_append(b, s, 1);
        }
        if (!rc)
            rc = am_buf_append(b, "\"", 1);
    }
    if (!rc)
        rc = am_buf_append(b, "]", 2); /* with the NUL */
    return rc;
}

/* The digits of a CIN, for searches by the number without its letters. */
static const char *cin_digits(const char *cin)
{
    while (*cin && (*cin < '0' || *cin > '9'))
        cin++;
    return cin;
}

struct lists {
    struct am_buf a, b, c;
};

static int person_write(struct store_conn *c, struct lists *l, const struct records_person *p,
                        const char *actor, int64_t now, int64_t *id)
{
    int rc = list_text(&l->a, p->aliases[0], sizeof(p->aliases[0]), p->naliases);
    if (!rc)
        rc = list_text(&l->b, p->addresses[0], sizeof(p->addresses[0]), p->naddresses);
    if (!rc)
        rc = list_text(&l->c, p->phones[0], sizeof(p->phones[0]), p->nphones);
    if (rc)
        return rc;
    const char *cin = p->cin[0] ? p->cin : NULL;
    if (*id) {
        rc = store_exec(c,
                        "UPDATE persons SET cin = ?, cin_digits = ?, given_ar = ?, family_ar = ?,"
                        " father_ar = ?, given_lat = ?, family_lat = ?, father_lat = ?,"
                        " aliases = ?, birth_date = ?, birth_place = ?, nationality = ?, sex = ?,"
                        " addresses = ?, phones = ?, updated_us = ?, updated_by = ? WHERE id = ?",
                        "tttttttttttttttiti", cin, cin ? cin_digits(cin) : NULL, p->given_ar,
                        p->family_ar, p->father_ar, p->given_lat, p->family_lat, p->father_lat,
                        l->a.data, p->birth_date, p->birth_place, p->nationality, p->sex, l->b.data,
                        l->c.data, now, actor, *id);
        if (!rc && store_changes(c) == 0)
            rc = AM_ENOTFOUND;
        return rc;
    }
    rc = store_exec(
        c,
        "INSERT INTO persons(cin, cin_digits, given_ar, family_ar, father_ar, given_lat,"
        " family_lat, father_lat, aliases, birth_date, birth_place, nationality, sex,"
        " addresses, phones, updated_us, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "tttttttttttttttit", cin, cin ? cin_digits(cin) : NULL, p->given_ar, p->family_ar,
        p->father_ar, p->given_lat, p->family_lat, p->father_lat, l->a.data, p->birth_date,
        p->birth_place, p->nationality, p->sex, l->b.data, l->c.data, now, actor);
    if (!rc)
        *id = store_last_id(c);
    return rc;
}

static const char *const PLATE_KINDS[] = {"ma", "ww", "diplomatic", "foreign"};

static int vehicle_write(struct store_conn *c, const struct records_vehicle *v, const char *actor,
                         int64_t now, int64_t *id)
{
    const char *vin = v->vin[0] ? v->vin : NULL, *owner = v->owner_cin[0] ? v->owner_cin : NULL;
    const char *kind = PLATE_KINDS[v->plate_kind & 3];
    int rc;
    if (*id) {
        rc = store_exec(c,
                        "UPDATE vehicles SET plate = ?, plate_key = ?, plate_kind = ?, country = ?,"
                        " vin = ?, make = ?, model = ?, colour = ?, year = ?, owner_cin = ?,"
                        " updated_us = ?, updated_by = ? WHERE id = ?",
                        "ttttttttititi", v->plate, v->plate_key, kind, v->country, vin, v->make,
                        v->model, v->colour, (int64_t)v->year, owner, now, actor, *id);
        if (!rc && store_changes(c) == 0)
            rc = AM_ENOTFOUND;
        return rc;
    }
    rc = store_exec(c,
                    "INSERT INTO vehicles(plate, plate_key, plate_kind, country, vin, make, model,"
                    " colour, year, owner_cin, updated_us, updated_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "ttttttttitit", v->plate, v->plate_key, kind, v->country, vin, v->make,
                    v->model, v->colour, (int64_t)v->year, owner, now, actor);
    if (!rc)
        *id = store_last_id(c);
    return rc;
}

static int i64_row(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

static int hotlist_write(struct store_conn *c, struct records_hotlist *h, const char *actor,
                         int64_t now, int64_t *id)
{
    /* A person entry names the person's record when there is one with that CIN. */
    if (!h->person_id && h->cin[0]) {
        int rc = store_query(c, "SELECT id FROM persons WHERE cin = ?", i64_row, &h->person_id, "t",
                             h->cin);
        if (rc)
            return rc;
    }
    int rc = store_exec(
        c,
        "INSERT INTO hotlist(kind, person_id, cin, plate, plate_key, vin, reason, service,"
        " valid_from, valid_until, action, instructions, created_us, created_by)"
        " VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "tittttttttttit", h->kind, h->person_id, h->cin[0] ? h->cin : NULL,
        h->plate[0] ? h->plate : NULL, h->plate_key[0] ? h->plate_key : NULL,
        h->vin[0] ? h->vin : NULL, h->reason, h->service, h->valid_from, h->valid_until, h->action,
        h->instructions, now, actor);
    if (!rc)
        *id = store_last_id(c);
    return rc;
}

/* ------------------------------------------------------------- import */

/*
 * Where a good record is in the input, and the first 8 bytes of its unique
 * key (CIN, plate key) as a number that orders as the bytes do.
 */
struct slot {
    uint64_t key;
    uint64_t pos;
    int64_t line;
};

struct import {
    enum records_kind kind;
    enum records_format format;
    const char *buf;
    size_t len;
    int64_t first_id, last_id, rows;
    struct records_import_result *res;
    struct records_issue conflict;
    struct records_reader start; /* after the header */
    struct slot *slots;          /* every good record, in the order to write; or NULL */
    size_t nslots;
};

/* Each kind's name, also its table's. */
static const char *const KIND_NAMES[] = {"persons", "vehicles", "hotlist"};

static uint64_t key_prefix(const char *k)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)(*k ? *k++ : 0);
    return v;
}

/*
 * Sorts the slots by key, equal keys in input order: a radix sort, a byte
 * at a time from the last (stable), skipping bytes all keys share.
 */
static int slots_sort(struct slot *v, size_t n)
{
    struct slot *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return AM_ENOMEM;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((v[i].key >> shift) & 0xFF) + 1]++;
        if (count[((v[0].key >> shift) & 0xFF) + 1] == n)
            continue;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i].key >> shift) & 0xFF]++] = v[i];
        memcpy(v, tmp, n * sizeof(*v));
    }
    free(tmp);
    return 0;
}

struct hash_job {
    const char *buf;
    size_t len;
    uint8_t h[AM_SHA256_LEN];
};

static void *hash_main(void *arg)
{
    struct hash_job *j = arg;
    am_sha256(j->buf, j->len, j->h);
    return NULL;
}

/*
 * A large import into a table that holds fewer rows builds the table's
 * plain indexes after the rows (store_indexes_drop); NULL otherwise.
 */
static int indexes_drop(struct store_conn *c, const char *table, int64_t rows,
                        struct store_indexes **saved)
{
    int64_t have = 0;
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", table);
    int rc = store_query(c, sql, i64_row, &have, "");
    *saved = NULL;
    if (rc || rows < 10000 || rows < have)
        return rc;
    /* Vehicles' VINs too: their uniqueness is then checked when the index is built. */
    return store_indexes_drop(c, table, strcmp(table, "vehicles") == 0, saved);
}

/*
 * After the VINs' unique index failed to build (a bulk import): the line of
 * the imported vehicle, last in the input, whose VIN another has too. Rows
 * were written in the order of the slots, one id after the other.
 */
struct dup_rows {
    const struct import *im;
    int64_t line;
};

static int dup_row(struct store_row *r, void *arg)
{
    struct dup_rows *d = arg;
    int64_t k = store_row_i64(r, 0) - d->im->first_id;
    if (k >= 0 && d->im->slots && (size_t)k < d->im->nslots && d->im->slots[k].line > d->line)
        d->line = d->im->slots[k].line;
    return 0;
}

static void duplicate_vin(struct store_conn *c, struct import *im)
{
    struct dup_rows d = {im, 0};
    if (store_query(c,
                    "SELECT id FROM vehicles WHERE vin = (SELECT vin FROM vehicles"
                    " WHERE vin IS NOT NULL GROUP BY vin HAVING count(*) > 1 LIMIT 1)",
                    dup_row, &d, "") ||
        !d.line)
        return;
    im->conflict.line = d.line;
    am_strlcpy(im->conflict.field, "vin", sizeof(im->conflict.field));
    snprintf(im->conflict.why, sizeof(im->conflict.why),
             "a vehicle with this VIN exists already (or twice in the input)");
}

/*
 * The records to write are read again (parsed and checked) by a thread of
 * their own while the writer inserts: batches handed over in a ring.
 */
#define FEED_BATCH 256
#define FEED_RING  4

struct feed {
    struct import *im;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    union records_any *recs; /* FEED_RING * FEED_BATCH */
    int64_t lines[FEED_RING * FEED_BATCH];
    int count[FEED_RING]; /* records in a full batch; -1 free */
    bool stop;            /* the writer gave up */
    int rc;               /* the reader's: AM_EINTERNAL if a record no longer reads */
};

static void *feed_main(void *arg)
{
    struct feed *f = arg;
    struct import *im = f->im;
    struct records_reader rd;
    records_reader_init(&rd, im->kind, im->format, im->buf, im->len);
    size_t next = 0;
    for (unsigned b = 0;; b = (b + 1) % FEED_RING) {
        pthread_mutex_lock(&f->mu);
        while (f->count[b] >= 0 && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        bool stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return NULL;
        int n = 0, rc = 0;
        while (n < FEED_BATCH) {
            if (im->slots) {
                if (next == im->nslots)
                    break;
                /* In key order: each record read again where the check found it. */
                rd = im->start;
                rd.pos = im->slots[next].pos;
                rd.line = im->slots[next++].line;
            }
            struct records_issue issue;
            int got = records_reader_next(&rd, &f->recs[b * FEED_BATCH + n], &issue);
            if (got < 0) /* it read well before: the input changed under us */
                rc = AM_EINTERNAL;
            if (got <= 0)
                break;
            f->lines[b * FEED_BATCH + n++] = rd.record_line;
        }
        pthread_mutex_lock(&f->mu);
        f->count[b] = n;
        f->rc = rc;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (n < FEED_BATCH) /* the end (a short or empty batch) */
            return NULL;
    }
}

static int write_one(struct store_conn *c, struct store_cmd *cmd, struct import *im,
                     struct lists *l, union records_any *rec, int64_t line, int64_t now)
{
    int64_t id = 0;
    const char *field = "";
    int rc = 0;
    switch (im->kind) {
    case RECORDS_PERSONS:
        rc = person_write(c, l, &rec->person, cmd->actor, now, &id);
        field = "cin";
        break;
    case RECORDS_VEHICLES:
        rc = vehicle_write(c, &rec->vehicle, cmd->actor, now, &id);
        field = "plate";
        break;
    case RECORDS_HOTLIST:
        rc = hotlist_write(c, &rec->hotlist, cmd->actor, now, &id);
        break;
    }
    if (rc == AM_ECONFLICT) {
        im->conflict.line = line;
        am_strlcpy(im->conflict.field, field, sizeof(im->conflict.field));
        snprintf(im->conflict.why, sizeof(im->conflict.why),
                 im->kind == RECORDS_PERSONS
                     ? "a person with this CIN exists already (or twice in the input)"
                     : "a vehicle with this plate or VIN exists already (or twice in the input)");
    }
    if (rc)
        return rc;
    if (!im->first_id)
        im->first_id = id;
    im->last_id = id;
    im->rows++;
    return 0;
}

/* Writes the records the feed thread reads; stops it on an error. */
static int write_fed(struct store_conn *c, struct store_cmd *cmd, struct import *im,
                     struct lists *l)
{
    struct feed f = {.im = im, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int b = 0; b < FEED_RING; b++)
        f.count[b] = -1;
    f.recs = malloc((size_t)FEED_RING * FEED_BATCH * sizeof(*f.recs));
    pthread_t th;
    if (!f.recs || pthread_create(&th, NULL, feed_main, &f)) {
        free(f.recs);
        return AM_ENOMEM;
    }
    int64_t now = am_now_us();
    int rc = 0;
    for (unsigned b = 0;; b = (b + 1) % FEED_RING) {
        pthread_mutex_lock(&f.mu);
        while (f.count[b] < 0)
            pthread_cond_wait(&f.cv, &f.mu);
        int n = f.count[b];
        pthread_mutex_unlock(&f.mu);
        for (int i = 0; !rc && i < n; i++)
            rc = write_one(c, cmd, im, l, &f.recs[b * FEED_BATCH + i], f.lines[b * FEED_BATCH + i],
                           now);
        pthread_mutex_lock(&f.mu);
        f.count[b] = -1;
        f.stop = rc != 0;
        int frc = f.rc;
        pthread_cond_broadcast(&f.cv);
        pthread_mutex_unlock(&f.mu);
        if (!rc)
            rc = frc;
        if (rc || n < FEED_BATCH)
            break;
    }
    pthread_join(th, NULL);
    free(f.recs);
    return rc;
}

static int apply_import(struct store_conn *c, struct store_cmd *cmd)
{
    struct import *im = cmd->arg;
    struct store_indexes *saved = NULL;
    struct lists l;
    am_buf_init(&l.a, 0);
    am_buf_init(&l.b, 0);
    am_buf_init(&l.c, 0);
    int rc = 0;
    /*
     * Millions of rows land in indexes in random key order (VINs): a page
     * cache of 1 GiB for this transaction instead of the writer's usual
     * 16 MiB keeps the import from waiting on the disk.
     */
    if (im->len > (64u << 20))
        rc = store_exec(c, "PRAGMA cache_size = -1048576", "");
    if (!rc)
        rc = indexes_drop(c, KIND_NAMES[im->kind], im->res->records, &saved);
    int64_t t0 = am_now_us();
    if (!rc)
        rc = write_fed(c, cmd, im, &l);
    am_buf_release(&l.a);
    am_buf_release(&l.b);
    am_buf_release(&l.c);
    int64_t t1 = am_now_us();
    if (!rc) {
        rc = store_indexes_restore(c, &saved);
        if (rc == AM_ECONFLICT && im->kind == RECORDS_VEHICLES)
            duplicate_vin(c, im);
    }
    am_info("records", "import written", "rows=%lld rows_s=%.1f indexes_s=%.1f",
            (long long)im->rows, (double)(t1 - t0) / 1e6, (double)(am_now_us() - t1) / 1e6);
    store_indexes_free(&saved);
    if (im->len > (64u << 20))
        store_exec(c, "PRAGMA cache_size = -16384", ""); /* the writer's own (store_sqlite.c) */
    if (rc)
        return rc;
    json_t *ev = json_pack("{ss sI sI sI ss}", "kind", KIND_NAMES[im->kind], "rows",
                           (json_int_t)im->rows, "first_id", (json_int_t)im->first_id, "last_id",
                           (json_int_t)im->last_id, "sha256", im->res->sha256);
    rc = ev ? store_append(c, cmd, "records.imported", ev, NULL) : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

static int add_issue(json_t *issues, const struct records_issue *is)
{
    if (json_array_size(issues) >= RECORDS_ISSUES_MAX)
        return 0;
    json_t *o =
        json_pack("{sI ss ss}", "line", (json_int_t)is->line, "field", is->field, "why", is->why);
    return o && !json_array_append_new(issues, o) ? 0 : AM_ENOMEM;
}

/*
 * One part of the check: reads records from rd until the input ends or the
 * reader reaches `end` (0: no end), counting them and their issues and, if
 * `slots`, noting where each good one is (struct slot).
 */
struct check {
    struct records_reader rd;
    size_t end;
    bool slots_wanted;
    int64_t records, bad;
    json_t *issues;
    struct slot *slots;
    size_t nslots, cap;
    struct records_reader start; /* rd once the header is read (the first good record) */
    int rc;
};

static void check_run(struct check *k)
{
    union records_any *rec = malloc(sizeof(*rec));
    if (!rec) {
        k->rc = AM_ENOMEM;
        return;
    }
    while (!k->rc && (!k->end || k->rd.pos < k->end)) {
        struct records_issue issue;
        int got = records_reader_next(&k->rd, rec, &issue);
        if (got == 0)
            break;
        if (got < 0) {
            k->bad++;
            k->rc = add_issue(k->issues, &issue);
            continue;
        }
        k->records++;
        if (!k->slots_wanted || k->bad)
            continue;
        if (k->nslots == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 4096;
            struct slot *ns = realloc(k->slots, cap * sizeof(*ns));
            if (!ns) {
                k->rc = AM_ENOMEM;
                break;
            }
            k->slots = ns;
            k->cap = cap;
        }
        if (!k->nslots)
            k->start = k->rd;
        k->slots[k->nslots++] = (struct slot){
            key_prefix(k->rd.kind == RECORDS_PERSONS ? rec->person.cin : rec->vehicle.plate_key),
            k->rd.record_pos, k->rd.record_line};
    }
    free(rec);
}

static void *check_main(void *arg)
{
    check_run(arg);
    return NULL;
}

#define CHECK_SPLIT_MIN ((size_t)4 << 20) /* inputs read by two threads */

/*
 * The check of the whole input. A large one is read by two threads, the
 * second from the first line past the middle; its reading counts only if
 * the first's ends exactly there (a quoted CSV field may hold a newline:
 * else the first goes on alone). Lines of the second are counted from
 * where it began, then moved.
 */
static void check_all(struct check *a, const char *buf, size_t len)
{
    const char *nl = len >= CHECK_SPLIT_MIN ? memchr(buf + len / 2, '\n', len - len / 2) : NULL;
    size_t split = nl ? (size_t)(nl - buf) + 1 : len;
    /* The first record, so that the header is read before the second part starts. */
    a->end = 1;
    check_run(a);
    struct check b = {.rd = a->rd, .slots_wanted = a->slots_wanted, .issues = json_array()};
    b.rd.pos = split;
    b.rd.line = 1;
    pthread_t th;
    bool two = split < len && a->rd.pos < split && b.issues && !a->rc &&
               pthread_create(&th, NULL, check_main, &b) == 0;
    a->end = two ? split : 0;
    check_run(a);
    if (two) {
        pthread_join(th, NULL);
        if (a->rd.pos != split || b.rc) {
            a->end = 0; /* the second part began inside a record: read it here */
            check_run(a);
        } else {
            int64_t shift = a->rd.line - 1;
            a->records += b.records;
            a->bad += b.bad;
            size_t i;
            json_t *is;
            json_array_foreach(b.issues, i, is)
            {
                json_t *line = json_object_get(is, "line");
                json_integer_set(line, json_integer_value(line) + shift);
                if (json_array_size(a->issues) < RECORDS_ISSUES_MAX)
                    json_array_append(a->issues, is);
            }
            if (!a->bad && b.nslots) {
                if (a->nslots + b.nslots > a->cap) {
                    struct slot *ns = realloc(a->slots, (a->nslots + b.nslots) * sizeof(*ns));
                    if (!ns)
                        a->rc = AM_ENOMEM;
                    else
                        a->slots = ns, a->cap = a->nslots + b.nslots;
                }
                for (size_t k = 0; !a->rc && k < b.nslots; k++) {
                    b.slots[k].line += shift;
                    a->slots[a->nslots++] = b.slots[k];
                }
            }
        }
    }
    json_decref(b.issues);
    free(b.slots);
}

int records_import(struct store *st, const char *actor, enum records_kind kind,
                   enum records_format format, const char *buf, size_t len, bool dry_run,
                   struct records_import_result *res)
{
    memset(res, 0, sizeof(*res));
    res->issues = json_array();
    if (!res->issues)
        return AM_ENOMEM;
    /* The input's SHA-256 (what the event names) on a thread of its own, while the check runs. */
    struct hash_job hj = {buf, len, {0}};
    pthread_t hth;
    bool hashing = pthread_create(&hth, NULL, hash_main, &hj) == 0;
    if (!hashing)
        hash_main(&hj);
    /*
     * First every record read and checked: the validation report. Persons
     * and vehicles are then written in the order of their unique key (CIN,
     * plate key), so that its index grows at a few places instead of
     * everywhere (ids follow that order).
     */
    struct check k = {.issues = res->issues, .slots_wanted = kind != RECORDS_HOTLIST && !dry_run};
    records_reader_init(&k.rd, kind, format, buf, len);
    check_all(&k, buf, len);
    res->records = k.records;
    res->bad = k.bad;
    if (hashing)
        pthread_join(hth, NULL);
    am_hex(hj.h, sizeof(hj.h), res->sha256);
    if (k.rc || res->bad || dry_run || !res->records) {
        free(k.slots);
        return k.rc ? k.rc : res->bad ? AM_EINVAL : 0;
    }
    struct import im = {kind, format, buf, len, 0, 0, 0, res, {0}, k.start, k.slots, k.nslots};
    int64_t t0 = am_now_us();
    if (im.slots && slots_sort(im.slots, im.nslots)) {
        free(im.slots);
        return AM_ENOMEM;
    }
    am_info("records", "import checked", "records=%lld sort_s=%.1f", (long long)res->records,
            (double)(am_now_us() - t0) / 1e6);
    struct store_cmd cmd = {.apply = apply_import, .arg = &im, .actor = actor};
    int rc = store_write(st, &cmd);
    free(cmd.answer);
    free(im.slots);
    if (rc == AM_ECONFLICT && im.conflict.line) {
        res->bad = 1;
        add_issue(res->issues, &im.conflict);
        return AM_EINVAL;
    }
    if (!rc)
        res->imported = im.rows;
    return rc;
}

/* ------------------------------------------------------------- export */

#define PERSON_COLS                                                                                \
    "id, cin, given_ar, family_ar, father_ar, given_lat, family_lat, father_lat, aliases,"         \
    " birth_date, birth_place, nationality, sex, addresses, phones, updated_us"

/* Copies a JSON list column into fixed items. */
static int list_from_text(const char *text, char *items, size_t stride, int max)
{
    json_t *a = json_loads(text, 0, NULL);
    int n = 0;
    for (size_t i = 0; i < json_array_size(a) && n < max; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s)
            am_strlcpy(items + (size_t)n++ * stride, s, stride);
    }
    json_decref(a);
    return n;
}

void records_person_from_row(struct store_row *r, struct records_person *p)
{
    memset(p, 0, sizeof(*p));
    p->id = store_row_i64(r, 0);
    am_strlcpy(p->cin, store_row_text(r, 1), sizeof(p->cin));
    am_strlcpy(p->given_ar, store_row_text(r, 2), sizeof(p->given_ar));
    am_strlcpy(p->family_ar, store_row_text(r, 3), sizeof(p->family_ar));
    am_strlcpy(p->father_ar, store_row_text(r, 4), sizeof(p->father_ar));
    am_strlcpy(p->given_lat, store_row_text(r, 5), sizeof(p->given_lat));
    am_strlcpy(p->family_lat, store_row_text(r, 6), sizeof(p->family_lat));
    am_strlcpy(p->father_lat, store_row_text(r, 7), sizeof(p->father_lat));
    p->naliases =
        list_from_text(store_row_text(r, 8), p->aliases[0], sizeof(p->aliases[0]), REC_ALIASES_MAX);
    am_strlcpy(p->birth_date, store_row_text(r, 9), sizeof(p->birth_date));
    am_strlcpy(p->birth_place, store_row_text(r, 10), sizeof(p->birth_place));
    am_strlcpy(p->nationality, store_row_text(r, 11), sizeof(p->nationality));
    am_strlcpy(p->sex, store_row_text(r, 12), sizeof(p->sex));
    p->naddresses = list_from_text(store_row_text(r, 13), p->addresses[0], sizeof(p->addresses[0]),
                                   REC_ADDR_MAX);
    p->nphones =
        list_from_text(store_row_text(r, 14), p->phones[0], sizeof(p->phones[0]), REC_PHONES_MAX);
}

#define VEHICLE_COLS                                                                               \
    "id, plate, plate_key, plate_kind, country, vin, make, model, colour, year, owner_cin,"        \
    " updated_us"

void records_vehicle_from_row(struct store_row *r, struct records_vehicle *v)
{
    memset(v, 0, sizeof(*v));
    v->id = store_row_i64(r, 0);
    am_strlcpy(v->plate, store_row_text(r, 1), sizeof(v->plate));
    am_strlcpy(v->plate_key, store_row_text(r, 2), sizeof(v->plate_key));
    for (int k = 0; k < 4; k++)
        if (strcmp(store_row_text(r, 3), PLATE_KINDS[k]) == 0)
            v->plate_kind = (enum records_plate_kind)k;
    am_strlcpy(v->country, store_row_text(r, 4), sizeof(v->country));
    am_strlcpy(v->vin, store_row_text(r, 5), sizeof(v->vin));
    am_strlcpy(v->make, store_row_text(r, 6), sizeof(v->make));
    am_strlcpy(v->model, store_row_text(r, 7), sizeof(v->model));
    am_strlcpy(v->colour, store_row_text(r, 8), sizeof(v->colour));
    v->year = (int)store_row_i64(r, 9);
    am_strlcpy(v->owner_cin, store_row_text(r, 10), sizeof(v->owner_cin));
}

#define HOTLIST_COLS                                                                               \
    "id, kind, person_id, cin, plate, plate_key, vin, reason, service, valid_from, valid_until,"   \
    " action, instructions, created_us, created_by"

void records_hotlist_from_row(struct store_row *r, struct records_hotlist *h)
{
    memset(h, 0, sizeof(*h));
    h->id = store_row_i64(r, 0);
    am_strlcpy(h->kind, store_row_text(r, 1), sizeof(h->kind));
    h->person_id = store_row_i64(r, 2);
    am_strlcpy(h->cin, store_row_text(r, 3), sizeof(h->cin));
    am_strlcpy(h->plate, store_row_text(r, 4), sizeof(h->plate));
    am_strlcpy(h->plate_key, store_row_text(r, 5), sizeof(h->plate_key));
    am_strlcpy(h->vin, store_row_text(r, 6), sizeof(h->vin));
    am_strlcpy(h->reason, store_row_text(r, 7), sizeof(h->reason));
    am_strlcpy(h->service, store_row_text(r, 8), sizeof(h->service));
    am_strlcpy(h->valid_from, store_row_text(r, 9), sizeof(h->valid_from));
    am_strlcpy(h->valid_until, store_row_text(r, 10), sizeof(h->valid_until));
    am_strlcpy(h->action, store_row_text(r, 11), sizeof(h->action));
    am_strlcpy(h->instructions, store_row_text(r, 12), sizeof(h->instructions));
}

struct export
{
    enum records_kind kind;
    enum records_format format;
    struct am_buf *out;
    int (*flush)(void *arg, struct am_buf *out);
    void *arg;
    int64_t count;
    union records_any rec;
};

static int export_row(struct store_row *r, void *arg)
{
    struct export *x = arg;
    if (x->kind == RECORDS_PERSONS)
        records_person_from_row(r, &x->rec.person);
    else if (x->kind == RECORDS_VEHICLES)
        records_vehicle_from_row(r, &x->rec.vehicle);
    else
        records_hotlist_from_row(r, &x->rec.hotlist);
    int rc = records_write(x->out, x->kind, x->format, &x->rec);
    x->count++;
    if (!rc && x->out->len > (1u << 20))
        rc = x->flush(x->arg, x->out);
    return rc;
}

static int export_read(struct store_conn *c, void *arg)
{
    struct export *x = arg;
    static const char *const sql[] = {
        "SELECT " PERSON_COLS " FROM persons ORDER BY id",
        "SELECT " VEHICLE_COLS " FROM vehicles ORDER BY id",
        "SELECT " HOTLIST_COLS " FROM hotlist WHERE cancelled_us IS NULL ORDER BY id",
    };
    return store_query(c, sql[x->kind], export_row, x, "");
}

int records_export(struct store *st, enum records_kind kind, enum records_format format,
                   struct am_buf *out, int (*flush)(void *arg, struct am_buf *out), void *arg,
                   int64_t *count)
{
    struct export *x = calloc(1, sizeof(*x));
    if (!x)
        return AM_ENOMEM;
    *x = (struct export){kind, format, out, flush, arg, 0, {{0}}};
    int rc = format == RECORDS_CSV ? records_write_header(out, kind) : 0;
    if (!rc)
        rc = store_read(st, export_read, x);
    if (!rc)
        rc = flush(arg, out);
    if (count)
        *count = x->count;
    free(x);
    return rc;
}

/* ------------------------------------------------------------- in memory */

/*
 * A person row into the index: the names and birth only (the columns of
 * load_read); aliases parsed only when there are some.
 */
static int index_row(struct store_row *r, void *arg)
{
    struct records *rs = arg;
    char aliases[REC_ALIASES_MAX][REC_NAME_MAX];
    struct rix_person x = {store_row_i64(r, 0),
                           {store_row_text(r, 1), store_row_text(r, 4)},
                           {store_row_text(r, 2), store_row_text(r, 5)},
                           {store_row_text(r, 3), store_row_text(r, 6)},
                           {NULL},
                           0,
                           store_row_text(r, 8),
                           store_row_text(r, 9)};
    const char *al = store_row_text(r, 7);
    if (al[0] && strcmp(al, "[]") != 0) {
        x.naliases = list_from_text(al, aliases[0], sizeof(aliases[0]), REC_ALIASES_MAX);
        for (int i = 0; i < x.naliases; i++)
            x.aliases[i] = aliases[i];
    }
    rix_write_lock(rs->ix);
    int rc = rix_put(rs->ix, &x);
    rix_write_unlock(rs->ix);
    if (x.id > rs->loaded_id)
        rs->loaded_id = x.id;
    return rc;
}

struct load {
    struct records *rs;
    int64_t after, got;
};

static int load_batch(struct store_row *r, void *arg)
{
    struct load *l = arg;
    l->got++;
    return index_row(r, l->rs);
}

static int load_read(struct store_conn *c, void *arg)
{
    struct load *l = arg;
    return store_query(c,
                       "SELECT id, given_ar, family_ar, father_ar, given_lat, family_lat,"
                       " father_lat, aliases, birth_date, birth_place FROM persons WHERE id > ?"
                       " ORDER BY id LIMIT 20000",
                       load_batch, l, "i", l->after);
}

int records_load(struct records *r)
{
    pthread_mutex_lock(&r->load_mu);
    int rc = 0;
    int64_t t0 = am_now_us(), total = 0;
    for (;;) {
        struct load l = {r, r->loaded_id, 0};
        rc = store_read(r->st, load_read, &l);
        total += l.got;
        if (rc || l.got == 0)
            break;
    }
    pthread_mutex_unlock(&r->load_mu);
    if (total > 1000)
        am_info("records", "names indexed", "persons=%lld ms=%lld", (long long)total,
                (long long)((am_now_us() - t0) / 1000));
    return rc;
}

/* ------------------------------------------------------------- JSON */

static json_t *str_list(const char *items, size_t stride, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(items + (size_t)i * stride));
    return a;
}

json_t *records_person_json(const struct records_person *p)
{
    return json_pack("{sI ss* ss ss ss ss ss ss so ss ss ss ss so so}", "id", (json_int_t)p->id,
                     "cin", p->cin[0] ? p->cin : NULL, "given_ar", p->given_ar, "family_ar",
                     p->family_ar, "father_ar", p->father_ar, "given_lat", p->given_lat,
                     "family_lat", p->family_lat, "father_lat", p->father_lat, "aliases",
                     str_list(p->aliases[0], sizeof(p->aliases[0]), p->naliases), "birth_date",
                     p->birth_date, "birth_place", p->birth_place, "nationality", p->nationality,
                     "sex", p->sex, "addresses",
                     str_list(p->addresses[0], sizeof(p->addresses[0]), p->naddresses), "phones",
                     str_list(p->phones[0], sizeof(p->phones[0]), p->nphones));
}

json_t *records_vehicle_json(const struct records_vehicle *v)
{
    return json_pack(
        "{sI ss ss ss ss ss* ss ss ss si ss*}", "id", (json_int_t)v->id, "plate", v->plate,
        "plate_key", v->plate_key, "plate_kind", PLATE_KINDS[v->plate_kind & 3], "country",
        v->country, "vin", v->vin[0] ? v->vin : NULL, "make", v->make, "model", v->model, "colour",
        v->colour, "year", v->year, "owner_cin", v->owner_cin[0] ? v->owner_cin : NULL);
}

json_t *records_hotlist_json(const struct records_hotlist *h)
{
    json_t *o = json_pack(
        "{sI ss ss* ss* ss* ss* ss ss ss ss ss ss}", "id", (json_int_t)h->id, "kind", h->kind,
        "cin", h->cin[0] ? h->cin : NULL, "plate", h->plate[0] ? h->plate : NULL, "plate_key",
        h->plate_key[0] ? h->plate_key : NULL, "vin", h->vin[0] ? h->vin : NULL, "reason",
        h->reason, "service", h->service, "valid_from", h->valid_from, "valid_until",
        h->valid_until, "action", h->action, "instructions", h->instructions);
    if (o)
        json_object_set_new(o, "person_id",
                            h->person_id ? json_integer(h->person_id) : json_null());
    return o;
}

/* ------------------------------------------------------------- the hotlist in memory */

/*
 * The entries not cancelled, by what a check looks up: "P:" plate key,
 * "C:" CIN, "V:" VIN, "I:" person id → [entry ids]; and the entries by id.
 */
struct rhot {
    pthread_rwlock_t lock;
    json_t *by_key, *entries;
};

static void hot_key_add(json_t *by_key, const char *prefix, const char *value, json_int_t id)
{
    if (!value || !*value)
        return;
    char key[64];
    snprintf(key, sizeof(key), "%s%s", prefix, value);
    json_t *a = json_object_get(by_key, key);
    if (!a) {
        a = json_array();
        json_object_set_new(by_key, key, a);
    }
    json_array_append_new(a, json_integer(id));
}

/* Adds an entry (its JSON as records_hotlist_json makes it, reference taken). Lock held. */
static void hot_add(struct rhot *h, json_t *e)
{
    json_int_t id = json_integer_value(json_object_get(e, "id"));
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    json_object_set(h->entries, ids, e);
    hot_key_add(h->by_key, "P:", json_string_value(json_object_get(e, "plate_key")), id);
    hot_key_add(h->by_key, "C:", json_string_value(json_object_get(e, "cin")), id);
    hot_key_add(h->by_key, "V:", json_string_value(json_object_get(e, "vin")), id);
    json_int_t pid = json_integer_value(json_object_get(e, "person_id"));
    if (pid > 0) {
        char p[24];
        snprintf(p, sizeof(p), "%lld", (long long)pid);
        hot_key_add(h->by_key, "I:", p, id);
    }
}

static int hot_row(struct store_row *r, void *arg)
{
    struct rhot *h = arg;
    struct records_hotlist e;
    records_hotlist_from_row(r, &e);
    json_t *j = records_hotlist_json(&e);
    if (!j)
        return AM_ENOMEM;
    hot_add(h, j);
    json_decref(j);
    return 0;
}

static int hot_read(struct store_conn *c, void *arg)
{
    return store_query(c, "SELECT " HOTLIST_COLS " FROM hotlist WHERE cancelled_us IS NULL",
                       hot_row, arg, "");
}

/* Reads the active hotlist from the store into fresh maps, then swaps them in. */
static int hot_reload(struct records *r)
{
    struct rhot fresh = {.by_key = json_object(), .entries = json_object()};
    int rc = fresh.by_key && fresh.entries ? store_read(r->st, hot_read, &fresh) : AM_ENOMEM;
    if (!rc) {
        pthread_rwlock_wrlock(&r->hot->lock);
        json_t *a = r->hot->by_key, *b = r->hot->entries;
        r->hot->by_key = fresh.by_key;
        r->hot->entries = fresh.entries;
        pthread_rwlock_unlock(&r->hot->lock);
        fresh.by_key = a;
        fresh.entries = b;
    }
    json_decref(fresh.by_key);
    json_decref(fresh.entries);
    return rc;
}

/* Today as YYYY-MM-DD (UTC), for the entries' validity. */
static void today(char out[REC_DATE_SZ])
{
    char ts[AM_TIME_BUFSZ];
    am_time_fmt(am_now_us(), ts, sizeof(ts));
    am_strlcpy(out, ts, REC_DATE_SZ);
}

int records_hot_match(struct records *r, const char *const *keys, const double *scores,
                      size_t nkeys, json_t **out)
{
    json_t *hits = json_array();
    if (!hits)
        return AM_ENOMEM;
    char now[REC_DATE_SZ];
    today(now);
    pthread_rwlock_rdlock(&r->hot->lock);
    for (size_t k = 0; k < nkeys; k++) {
        json_t *ids = json_object_get(r->hot->by_key, keys[k]);
        for (size_t i = 0; i < json_array_size(ids); i++) {
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_array_get(ids, i)));
            json_t *e = json_object_get(r->hot->entries, id);
            const char *from = json_string_value(json_object_get(e, "valid_from"));
            const char *until = json_string_value(json_object_get(e, "valid_until"));
            if (!e || (from && *from && strcmp(now, from) < 0) ||
                (until && *until && strcmp(now, until) > 0))
                continue;
            /* The best reading of each entry only. */
            json_t *seen = NULL;
            for (size_t j = 0; j < json_array_size(hits) && !seen; j++)
                if (json_integer_value(json_object_get(json_array_get(hits, j), "id")) ==
                    json_integer_value(json_object_get(e, "id")))
                    seen = json_array_get(hits, j);
            if (seen)
                continue;
            json_t *hit = json_deep_copy(e);
            if (!hit)
                continue;
            json_object_set_new(hit, "score", json_real(scores[k]));
            json_object_set_new(hit, "matched", json_string(keys[k] + 2));
            json_array_append_new(hits, hit);
        }
    }
    pthread_rwlock_unlock(&r->hot->lock);
    *out = hits;
    return 0;
}

/* ------------------------------------------------------------- single writes */

static int write_fail(struct store_cmd *cmd, int rc, const char *why)
{
    free(cmd->answer);
    cmd->answer = strdup(why);
    return rc;
}

int records_apply_write(struct store_conn *c, struct store_cmd *cmd)
{
    struct rec_write *w = cmd->arg;
    int64_t now = am_now_us(), id = w->id;
    const char *type;
    struct lists l;
    am_buf_init(&l.a, 0);
    am_buf_init(&l.b, 0);
    am_buf_init(&l.c, 0);
    int rc;
    if (w->cancel_why) {
        rc = store_exec(c,
                        "UPDATE hotlist SET cancelled_us = ?, cancelled_by = ?, cancel_reason = ?"
                        " WHERE id = ? AND cancelled_us IS NULL",
                        "itti", now, cmd->actor, w->cancel_why, id);
        if (!rc && store_changes(c) == 0)
            return write_fail(cmd, AM_ENOTFOUND, "no active hotlist entry with this id");
        w->result = json_pack("{sI ss}", "id", (json_int_t)id, "cancel_reason", w->cancel_why);
        type = "records.hotlist.cancelled";
    } else if (w->kind == RECORDS_PERSONS) {
        rc = person_write(c, &l, &w->rec.person, cmd->actor, now, &id);
        w->rec.person.id = id;
        w->result = rc ? NULL : records_person_json(&w->rec.person);
        type = w->id ? "records.person.updated" : "records.person.created";
    } else if (w->kind == RECORDS_VEHICLES) {
        rc = vehicle_write(c, &w->rec.vehicle, cmd->actor, now, &id);
        w->rec.vehicle.id = id;
        w->result = rc ? NULL : records_vehicle_json(&w->rec.vehicle);
        type = w->id ? "records.vehicle.updated" : "records.vehicle.created";
    } else {
        rc = hotlist_write(c, &w->rec.hotlist, cmd->actor, now, &id);
        w->rec.hotlist.id = id;
        w->result = rc ? NULL : records_hotlist_json(&w->rec.hotlist);
        type = "records.hotlist.added";
    }
    am_buf_release(&l.a);
    am_buf_release(&l.b);
    am_buf_release(&l.c);
    if (rc == AM_ECONFLICT)
        return write_fail(cmd, rc,
                          w->kind == RECORDS_PERSONS    ? "a person with this CIN exists already"
                          : w->kind == RECORDS_VEHICLES ? "a vehicle with this plate or VIN "
                                                          "exists already"
                                                        : "the entry names no such person");
    if (rc == AM_ENOTFOUND)
        return write_fail(cmd, rc, "no record with this id");
    if (!rc && !w->result)
        rc = AM_ENOMEM;
    if (!rc)
        rc = store_append(c, cmd, type, w->result, NULL);
    if (!rc) {
        cmd->answer = json_dumps(w->result, JSON_COMPACT);
        cmd->status = w->id ? 200 : 201;
        rc = cmd->answer ? 0 : AM_ENOMEM;
    }
    return rc;
}

/* ------------------------------------------------------------- the service */

static void *loader_main(void *arg);

int records_new(struct records **out, struct store *st, struct avl *avl, struct cad *cad)
{
    struct records *r = calloc(1, sizeof(*r));
    if (!r)
        return AM_ENOMEM;
    r->st = st;
    r->avl = avl;
    r->cad = cad;
    pthread_mutex_init(&r->load_mu, NULL);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->hot = calloc(1, sizeof(*r->hot));
    int rc = r->hot ? rix_new(&r->ix) : AM_ENOMEM;
    if (!rc) {
        pthread_rwlock_init(&r->hot->lock, NULL);
        r->hot->by_key = json_object();
        r->hot->entries = json_object();
        rc = hot_reload(r);
    }
    if (rc) {
        records_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int records_start(struct records *r)
{
    int rc = records_load(r);
    if (!rc && pthread_create(&r->loader, NULL, loader_main, r))
        rc = AM_ENOMEM;
    if (!rc)
        r->loader_started = true;
    return rc;
}

void records_free(struct records *r)
{
    if (!r)
        return;
    if (r->loader_started) {
        pthread_mutex_lock(&r->mu);
        r->stopping = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->loader, NULL);
    }
    if (r->hot) {
        json_decref(r->hot->by_key);
        json_decref(r->hot->entries);
        pthread_rwlock_destroy(&r->hot->lock);
        free(r->hot);
    }
    rix_free(r->ix);
    pthread_mutex_destroy(&r->load_mu);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

/* Loads what imports added, off the store's writer (which runs the bus). */
static void *loader_main(void *arg)
{
    struct records *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stopping && !r->want_persons && !r->want_hotlist)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stopping)
            break;
        bool persons = r->want_persons, hot = r->want_hotlist;
        r->want_persons = r->want_hotlist = false;
        pthread_mutex_unlock(&r->mu);
        if (persons && records_load(r))
            am_warn("records", "cannot load imported persons into the name index", NULL);
        if (hot && hot_reload(r))
            am_warn("records", "cannot reload the hotlist", NULL);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* A person's names from an event's data into the index. */
static void index_event(struct records *r, const json_t *d)
{
    const char *f[6] = {"given_ar",   "given_lat", "family_ar",
                        "family_lat", "father_ar", "father_lat"};
    const char *v[6];
    for (int i = 0; i < 6; i++)
        v[i] = json_string_value(json_object_get(d, f[i]));
    struct rix_person x = {json_integer_value(json_object_get(d, "id")),
                           {v[0], v[1]},
                           {v[2], v[3]},
                           {v[4], v[5]},
                           {NULL},
                           0,
                           json_string_value(json_object_get(d, "birth_date")),
                           json_string_value(json_object_get(d, "birth_place"))};
    json_t *al = json_object_get(d, "aliases");
    for (size_t i = 0; i < json_array_size(al) && x.naliases < REC_ALIASES_MAX; i++)
        x.aliases[x.naliases++] = json_string_value(json_array_get(al, i));
    rix_write_lock(r->ix);
    if (rix_put(r->ix, &x))
        am_warn("records", "cannot index a person", "id=%lld", (long long)x.id);
    rix_write_unlock(r->ix);
}

void records_on_events(void *arg, struct am_event *const *evs, size_t n)
{
    struct records *r = arg;
    bool persons = false, hot = false;
    for (size_t i = 0; i < n; i++) {
        const char *t = evs[i]->type;
        if (strncmp(t, "records.", 8) || strcmp(t, "records.read") == 0)
            continue;
        json_t *d = json_loadb(evs[i]->data, evs[i]->data_len, 0, NULL);
        if (strcmp(t, "records.person.created") == 0 || strcmp(t, "records.person.updated") == 0) {
            index_event(r, d);
        } else if (strcmp(t, "records.hotlist.added") == 0) {
            pthread_rwlock_wrlock(&r->hot->lock);
            hot_add(r->hot, d);
            pthread_rwlock_unlock(&r->hot->lock);
        } else if (strcmp(t, "records.hotlist.cancelled") == 0) {
            hot = true;
        } else if (strcmp(t, "records.imported") == 0) {
            const char *kind = json_string_value(json_object_get(d, "kind"));
            persons = persons || (kind && strcmp(kind, "persons") == 0);
            hot = hot || (kind && strcmp(kind, "hotlist") == 0);
        }
        json_decref(d);
    }
    if (persons || hot) {
        pthread_mutex_lock(&r->mu);
        r->want_persons = r->want_persons || persons;
        r->want_hotlist = r->want_hotlist || hot;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}
