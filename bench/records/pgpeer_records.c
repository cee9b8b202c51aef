/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * pgpeer_records.c - the named peer of the records benchmark
 * (docs/BENCHMARKS.md): the query sets that bench_records drew (names.tsv,
 * spelling.tsv, plates.tsv) asked of PostgreSQL 15 with pg_trgm, over one
 * loopback connection, one query at a time, each a prepared statement, the
 * way an application would ask; the tables are those of pg_load.sql.
 *
 * Names: the persons' six name fields (given, family, father; Arabic and
 * Latin) are one text column `names` with a GIN trigram index, and a search
 * is the pg_trgm recipe:
 *   --op sim   SELECT ... WHERE names % $1 ORDER BY similarity(names, $1) DESC LIMIT 10
 *              (pg_trgm.similarity_threshold, default 0.3)
 *   --op word  SELECT ... WHERE $1 <% names ORDER BY word_similarity($1, names) DESC LIMIT 10
 *              (pg_trgm.word_similarity_threshold, default 0.6): the query
 *              against the best-matching stretch of the names, the form
 *              suited to a short query against a long text
 * Recall@10, recall@100 and the split of the persons not in the first 10
 * (outranked: 10 rows scoring at least its own similarity, namesakes or
 * names nearer the query; or missed: above them yet not returned, or under
 * the threshold) are counted as bench_records counts them. --max-names bounds the name queries
 * asked (the first N of names.tsv, which cycles through the variants), since each may take long;
 * --max-spelling likewise takes N pairs evenly spaced over spelling.tsv.
 * With --one-pass yes each name query is asked once with LIMIT 100 and
 * timed so; its first 10 rows are the LIMIT 10 answer (the order ends with
 * the id), and a trigram search costs the recheck of every candidate row
 * whatever the LIMIT, so the time is that of LIMIT 10 within noise (run.sh
 * --pg-one-pass; compare both on a smaller scale).
 *
 * Plates: the hotlist check by the plate's key (btree), as the key of the
 * plate as typed (a misreading finds nothing), and as amane does it, with
 * the keys of every reading that amane's plate_variants() gave (= ANY);
 * and the vehicle by its key in the table of all vehicles.
 *
 * Output: one JSON line on stdout.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "../common/bench.h"
#include "../common/samples.h"
#include "recall.h"

static struct {
    const char *conninfo;
    const char *dir;
    const char *op; /* sim | word */
    double threshold;
    size_t max_names;
    size_t max_spelling;
    int timeout_ms;
    size_t warmup;
    bool one_pass; /* LIMIT 100 once, its first 10 rows as the LIMIT 10 answer */
} opt = {NULL, NULL, "sim", -1, 0, 0, 30000, 50, false};

static PGconn *pg;

static void exec_ok(const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die("%s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
}

static void prepare(const char *name, const char *sql)
{
    PGresult *r = PQprepare(pg, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("prepare %s: %s", name, PQerrorMessage(pg));
    PQclear(r);
}

/* Runs a prepared statement; NULL if it failed (a timeout), with *timeout set. */
static PGresult *run(const char *name, int n, const char *const *params, bool *timeout)
{
    PGresult *r = PQexecPrepared(pg, name, n, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "57014") == 0) {
        *timeout = true;
        PQclear(r);
        return NULL;
    }
    die("%s: %s", name, PQerrorMessage(pg));
}

/* ------------------------------------------------------------- queries */

/* The lines of a TSV file, each cut into fields (at most 8) in place. */
struct row {
    char *f[8];
    int n;
};

static struct row *tsv_read(const char *name, size_t *count)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", opt.dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        *count = 0;
        return NULL;
    }
    struct row *rows = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            rows = realloc(rows, cap * sizeof(*rows));
            if (!rows)
                die("out of memory");
        }
        struct row *r = &rows[n++];
        char *l = strdup(line);
        if (!l)
            die("out of memory");
        r->n = 0;
        r->f[r->n++] = l;
        for (char *p = l; *p && r->n < 8; p++)
            if (*p == '\t') {
                *p = '\0';
                r->f[r->n++] = p + 1;
            }
        for (int i = r->n; i < 8; i++)
            r->f[i] = "";
    }
    free(line);
    fclose(f);
    *count = n;
    return rows;
}

/* ------------------------------------------------------------- names */

/* Where the CIN ranks among the answer's rows (1-based), 0 if absent. */
static int rank_of(PGresult *r, const char *cin)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), cin) == 0)
            return i + 1;
    return 0;
}

/* rows: set, variant, CIN, query, year. */
static json_t *names_run(struct row *q, size_t n, bool with_year, size_t warmup)
{
    struct name_groups g;
    memset(&g, 0, sizeof(g));
    const char *stmt = with_year ? "name_year" : "name";
    for (size_t i = 0; i < warmup && n; i++) {
        const char *p[3] = {q[i % n].f[3], "10", "%"};
        bool to = false;
        PQclear(run(stmt, with_year ? 3 : 2, p, &to));
    }
    for (size_t i = 0; i < n; i++) {
        char year[16];
        snprintf(year, sizeof(year), "%s%%", q[i].f[4]);
        const char *p[3] = {q[i].f[3], opt.one_pass ? "100" : "10", year};
        bool to = false;
        int64_t t0 = mono_us();
        PGresult *r = run(stmt, with_year ? 3 : 2, p, &to);
        int64_t us = mono_us() - t0;
        struct name_outcome o = {.timeout = !r};
        if (r) {
            int rank = rank_of(r, q[i].f[2]), rows = PQntuples(r);
            o.rank = rank <= 10 ? rank : 0;
            o.in100 = rank > 0;
            double tenth = rows >= 10 ? strtod(PQgetvalue(r, 9, 1), NULL) : -1;
            PQclear(r);
            /* With --one-pass the first 10 rows are what LIMIT 10 returns (id breaks ties). */
            if (!o.rank) {
                /*
                 * Not in the first 10: is it among the first 100, and did 10
                 * persons score at least as high as it does (outranked), or is
                 * it under the threshold (missed)?
                 */
                if (!opt.one_pass && rows >= 10) {
                    p[1] = "100";
                    r = run(stmt, with_year ? 3 : 2, p, &to);
                    o.in100 = r && rank_of(r, q[i].f[2]);
                    PQclear(r);
                }
                const char *op[2] = {q[i].f[3], q[i].f[2]};
                r = run("own", 2, op, &to);
                double own = r && PQntuples(r) ? strtod(PQgetvalue(r, 0, 0), NULL) : -1;
                PQclear(r);
                o.outranked = own >= 0 && tenth >= own - 1e-9;
            }
        }
        name_groups_add(&g, q[i].f[1], us, &o);
    }
    return name_groups_json(&g);
}

/* ------------------------------------------------------------- plates */

struct plate_stats {
    struct samples lat;
    uint64_t n, expect, found;
};

static json_t *plate_stats_json(struct plate_stats *s)
{
    json_t *j = samples_summary(&s->lat);
    json_object_set_new(j, "expected_hits", json_integer((json_int_t)s->expect));
    json_object_set_new(j, "found", json_integer((json_int_t)s->found));
    return j;
}

/* rows: set, form, expected key, country, text, key, variant keys (comma-separated). */
static json_t *plates_run(struct row *q, size_t n, const char *today, size_t warmup)
{
    static const char *const stmts[] = {"hot_exact", "hot_variants", "vehicle"};
    json_t *j = json_object();
    for (int s = 0; s < 3; s++) {
        struct plate_stats all, by_form[8];
        memset(&all, 0, sizeof(all));
        memset(by_form, 0, sizeof(by_form));
        char forms[8][16] = {{0}};
        int nforms = 0;
        for (size_t k = 0; k < warmup + n; k++) {
            struct row *x = &q[k % n];
            char arr[4096];
            if (s == 1)
                snprintf(arr, sizeof(arr), "{%s}", x->f[6]);
            const char *p[2] = {s == 1 ? arr : x->f[5], today};
            bool to = false;
            int64_t t0 = mono_us();
            PGresult *r = run(stmts[s], s == 2 ? 1 : 2, p, &to);
            int64_t us = mono_us() - t0;
            if (k < warmup) {
                PQclear(r);
                continue;
            }
            int f = 0;
            while (f < nforms && strcmp(forms[f], x->f[1]))
                f++;
            if (f == nforms && nforms < 8)
                snprintf(forms[nforms++], sizeof(forms[0]), "%s", x->f[1]);
            bool found = false;
            for (int i = 0; r && i < PQntuples(r); i++)
                found = found || (x->f[2][0] && strcmp(PQgetvalue(r, i, 0), x->f[2]) == 0);
            struct plate_stats *g[2] = {&all, &by_form[f < 8 ? f : 7]};
            for (int i = 0; i < 2; i++) {
                samples_add(&g[i]->lat, us);
                g[i]->n++;
                g[i]->expect += x->f[2][0] != 0;
                g[i]->found += found;
            }
            PQclear(r);
        }
        json_t *sj = plate_stats_json(&all);
        json_t *bf = json_object();
        for (int f = 0; f < nforms; f++) {
            json_object_set_new(bf, forms[f], plate_stats_json(&by_form[f]));
            free(by_form[f].lat.v);
        }
        json_object_set_new(sj, "by_form", bf);
        json_object_set_new(j, stmts[s], sj);
        free(all.lat.v);
    }
    return j;
}

int main(int argc, char **argv)
{
    bench_prog = "records_pgpeer";
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        if (strcmp(a, "--conninfo") == 0)
            opt.conninfo = v;
        else if (strcmp(a, "--dir") == 0)
            opt.dir = v;
        else if (strcmp(a, "--op") == 0)
            opt.op = v;
        else if (strcmp(a, "--threshold") == 0)
            opt.threshold = strtod(v, NULL);
        else if (strcmp(a, "--max-names") == 0)
            opt.max_names = strtoull(v, NULL, 10);
        else if (strcmp(a, "--max-spelling") == 0)
            opt.max_spelling = strtoull(v, NULL, 10);
        else if (strcmp(a, "--timeout-ms") == 0)
            opt.timeout_ms = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--warmup") == 0)
            opt.warmup = strtoull(v, NULL, 10);
        else if (strcmp(a, "--one-pass") == 0)
            opt.one_pass = strcmp(v, "1") == 0 || strcmp(v, "yes") == 0;
        else
            die("unknown argument '%s'", a);
    }
    bool word = opt.op && strcmp(opt.op, "word") == 0;
    if (!opt.conninfo || !opt.dir || (!word && strcmp(opt.op, "sim")))
        die("usage: records_pgpeer --conninfo C --dir DIR [--op sim|word] [--threshold T]"
            " [--max-names N] [--max-spelling N] [--timeout-ms MS] [--warmup N] [--one-pass yes]");
    if (opt.threshold < 0)
        opt.threshold = word ? 0.6 : 0.3; /* pg_trgm's defaults */
    pg = PQconnectdb(opt.conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        die("cannot connect: %s", PQerrorMessage(pg));
    char sql[1024];
    snprintf(sql, sizeof(sql), "SET pg_trgm.%s = %g",
             word ? "word_similarity_threshold" : "similarity_threshold", opt.threshold);
    exec_ok(sql);
    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", opt.timeout_ms);
    exec_ok(sql);
    if (word) {
        prepare("name", "SELECT cin, word_similarity($1, names) AS s FROM persons"
                        " WHERE $1 <% names ORDER BY s DESC, id LIMIT $2::int");
        prepare("name_year", "SELECT cin, word_similarity($1, names) AS s FROM persons"
                             " WHERE $1 <% names AND birth_date LIKE $3"
                             " ORDER BY s DESC, id LIMIT $2::int");
    } else {
        prepare("name", "SELECT cin, similarity(names, $1) AS s FROM persons"
                        " WHERE names % $1 ORDER BY s DESC, id LIMIT $2::int");
        prepare("name_year", "SELECT cin, similarity(names, $1) AS s FROM persons"
                             " WHERE names % $1 AND birth_date LIKE $3"
                             " ORDER BY s DESC, id LIMIT $2::int");
    }
    prepare("own", word ? "SELECT word_similarity($1, names) FROM persons WHERE cin = $2"
                        : "SELECT similarity(names, $1) FROM persons WHERE cin = $2");
    const char *valid = " AND coalesce(valid_from, '') <= $2"
                        " AND (coalesce(valid_until, '') = '' OR valid_until >= $2)";
    snprintf(sql, sizeof(sql),
             "SELECT plate_key, id, kind, action FROM hotlist"
             " WHERE plate_key = $1%s",
             valid);
    prepare("hot_exact", sql);
    snprintf(sql, sizeof(sql),
             "SELECT plate_key, id, kind, action FROM hotlist"
             " WHERE plate_key = ANY($1::text[])%s",
             valid);
    prepare("hot_variants", sql);
    prepare("vehicle", "SELECT plate_key, id, make, model, colour, owner_cin FROM vehicles"
                       " WHERE plate_key = $1");

    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);

    size_t nn, ns, np;
    struct row *names = tsv_read("names.tsv", &nn);
    struct row *spelling = tsv_read("spelling.tsv", &ns);
    struct row *plates = tsv_read("plates.tsv", &np);
    if (opt.max_names && nn > opt.max_names)
        nn = opt.max_names;
    if (opt.max_spelling && ns > opt.max_spelling) {
        /* Evenly spaced over the table, which is ordered by section. */
        for (size_t i = 0; i < opt.max_spelling; i++)
            spelling[i] = spelling[i * ns / opt.max_spelling];
        ns = opt.max_spelling;
    }
    json_t *res = json_pack("{ss ss sf si sb}", "tool", "pgpeer_records", "op",
                            word ? "word_similarity (<%)" : "similarity (%)", "threshold",
                            opt.threshold, "timeout_ms", opt.timeout_ms, "one_pass", opt.one_pass);
    PGresult *v = PQexec(pg, "SELECT version()");
    if (PQresultStatus(v) == PGRES_TUPLES_OK)
        json_object_set_new(res, "version", json_string(PQgetvalue(v, 0, 0)));
    PQclear(v);
    if (nn) {
        note("%zu name queries (%s)", nn, opt.op);
        json_object_set_new(res, "names", names_run(names, nn, false, opt.warmup));
    }
    if (ns) {
        note("%zu spelling queries, then again with the year of birth", ns);
        json_object_set_new(res, "spelling", names_run(spelling, ns, false, 0));
        json_object_set_new(res, "spelling_with_year", names_run(spelling, ns, true, 0));
    }
    if (np) {
        note("%zu plate checks, three ways", np);
        json_object_set_new(res, "plates", plates_run(plates, np, today, opt.warmup));
    }
    char *line = json_dumps(res, JSON_COMPACT);
    puts(line);
    free(line);
    json_decref(res);
    PQfinish(pg);
    return 0;
}
