/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bench_recommend.c - the unit recommendation benchmark: which 5 of 1,000
 * units reach an incident first by road, in amane (in-process, src/geo) and
 * in pgRouting (the named peer, over libpq), on the same graph and the same
 * snapped points, in one run; and what ranking by road buys over ranking by
 * straight-line distance.
 *
 * The graph is an OSM extract imported by geo_roads_import(); the peer gets
 * the same edges (and --csv, the export of `amane roads export --csv`, is
 * checked edge by edge against it when given), with each pair of twin edges
 * as one pgRouting edge (cost, reverse_cost), so that pgr_withPointsCost
 * with driving_side 'b' follows amane's model exactly (see
 * tests/integration/pgrouting.py). Units and incidents are random points
 * on the roads (an edge drawn by length, a fraction drawn uniformly).
 *
 * Measured per incident, wall clock:
 *  - amane: snap the incident, snap the 1,000 units, geo_roads_rank(k=5);
 *    and the same without snapping the units, which a dispatch system does
 *    once per position report, not once per incident;
 *  - pgRouting: one SQL statement returning the top 5 by pgr_withPointsCost,
 *    as written (many units to one incident: pgRouting searches once per
 *    unit) and as a pgRouting user would tune it (one search from the
 *    incident on the reversed graph); each reads the edges anew, as every
 *    pgRouting query does.
 * Every ranking is compared: the same units in the same order, or the same
 * times where units tie (ETAs equal within 2 ms, the rounding of amane's
 * millisecond parts), or a disagreement, printed on stderr.
 *
 * Quality: 10,000 incidents and 200 units; the unit nearest in a straight
 * line (haversine) against the first by road ETA: how often they differ and
 * the seconds lost when the straight-line one is sent.
 *
 * Output: markdown tables on stdout; progress on stderr. bench/recommend/
 * run.sh builds it, exports the graph and starts the PostgreSQL cluster.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/core.h"
#include "geo/geo.h"

#define REC_MAX_K        50
#define REC_MAX_UNITS    1000000
#define REC_MAX_INCIDENT 10000000
#define REC_SNAP_M       50.0 /* points are drawn on the roads: they snap within centimetres */
#define REC_TIE_S        0.002
#define REC_PG_PID_INC   2000000000LL /* the incident's pid in the peer; units are 1..n */

static struct {
    const char *osm;
    const char *csv;
    const char *conninfo;
    size_t units, incidents, pg_incidents;
    size_t q_units, q_incidents;
    size_t k;
    uint64_t seed;
    const char *only; /* NULL, "amane" or "pg" */
} opt = {NULL, NULL, NULL, 1000, 1000, 200, 200, 10000, 5, 1, NULL};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_recommend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory");
    return p;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64: a fixed seed gives the same units and incidents on every machine. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------- the graph */

struct graph {
    struct geo_roads *g;
    struct geo_roads_info info;
    int64_t *twin;     /* [m] the twin of each edge, -1 if none */
    uint32_t *pg_edge; /* [m] the peer's edge holding amane's edge (1-based) */
    bool *flipped;     /* [m] amane's edge runs target -> source of that peer edge */
    double *cum_len;   /* [streets] cumulative length, to draw positions */
    uint32_t *street;  /* [streets] one edge per street: a one-way edge, or the lower of twins */
    size_t streets;
};

/* Splits a CSV line (no quoting: amane's export writes none) into at most `max` fields. */
static size_t csv_split(char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        field[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    for (size_t i = 0; i < n; i++)
        field[i][strcspn(field[i], "\r\n")] = '\0';
    return n;
}

static int csv_col(char **field, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(field[i], name) == 0)
            return (int)i;
    die("%s: no column '%s' in the header", opt.csv, name);
    return -1;
}

/* The twins of the graph's edges. */
static void graph_twins(struct graph *gr)
{
    uint32_t m = gr->info.edges;
    gr->twin = xcalloc(m, sizeof(*gr->twin));
    for (uint32_t e = 0; e < m; e++) {
        struct geo_road_edge ed;
        if (!geo_roads_edge(gr->g, e, &ed))
            die("edge %u of %u: not found", e, m);
        gr->twin[e] = ed.twin == GEO_NONE ? -1 : (int64_t)ed.twin;
    }
}

/* Checks that the export given with --csv is this graph, edge by edge. */
static void graph_check_csv(const struct graph *gr)
{
    FILE *f = fopen(opt.csv, "r");
    if (!f)
        die("cannot open '%s'", opt.csv);
    uint32_t m = gr->info.edges;
    char *line = NULL;
    size_t cap = 0;
    char *field[32];
    if (getline(&line, &cap, f) < 0)
        die("%s: empty", opt.csv);
    size_t nf = csv_split(line, field, 32);
    int c_edge = csv_col(field, nf, "edge"), c_twin = csv_col(field, nf, "twin");
    int c_src = csv_col(field, nf, "source"), c_dst = csv_col(field, nf, "target");
    int c_cost = csv_col(field, nf, "cost_s");
    uint32_t rows = 0;
    while (getline(&line, &cap, f) >= 0) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        size_t n = csv_split(line, field, 32);
        if (n != nf)
            die("%s: line %u has %zu fields, not %zu", opt.csv, rows + 2, n, nf);
        long long e = strtoll(field[c_edge], NULL, 10);
        long long tw = strtoll(field[c_twin], NULL, 10);
        long long s = strtoll(field[c_src], NULL, 10), t = strtoll(field[c_dst], NULL, 10);
        double cost = strtod(field[c_cost], NULL);
        struct geo_road_edge ed;
        if (e != rows || !geo_roads_edge(gr->g, (uint32_t)e, &ed))
            die("%s: line %u is edge %lld (expected %u of %u)", opt.csv, rows + 2, e, rows, m);
        if (ed.tail != s || ed.head != t || llround(cost * 1000) != (long long)ed.time_ms ||
            tw != gr->twin[e])
            die("%s: edge %lld is %lld -> %lld in %.3f s, twin %lld; the graph says %u -> %u in "
                "%u ms, twin %lld: not the same graph",
                opt.csv, e, s, t, cost, tw, ed.tail, ed.head, ed.time_ms, (long long)gr->twin[e]);
        rows++;
    }
    if (rows != m)
        die("%s: %u edges, the graph has %u", opt.csv, rows, m);
    free(line);
    fclose(f);
}

/* Pairs twins as the peer will hold them, and lists streets to draw positions on. */
static void graph_pair(struct graph *gr)
{
    uint32_t m = gr->info.edges;
    gr->pg_edge = xcalloc(m, sizeof(*gr->pg_edge));
    gr->flipped = xcalloc(m, sizeof(*gr->flipped));
    gr->street = xcalloc(m, sizeof(*gr->street));
    gr->cum_len = xcalloc(m, sizeof(*gr->cum_len));
    double total = 0;
    for (uint32_t e = 0; e < m; e++) {
        int64_t t = gr->twin[e];
        bool paired = t >= 0 && gr->twin[t] == (int64_t)e;
        if (paired && t < (int64_t)e) {
            gr->pg_edge[e] = (uint32_t)t + 1;
            gr->flipped[e] = true;
            continue;
        }
        gr->pg_edge[e] = e + 1;
        struct geo_road_edge ed;
        geo_roads_edge(gr->g, e, &ed);
        total += ed.length_m;
        gr->street[gr->streets] = e;
        gr->cum_len[gr->streets++] = total;
    }
}

/* A random point on the roads: a street drawn by length, a point drawn along it. */
static void random_position(const struct graph *gr, double *lat, double *lon)
{
    double x = rng_unit() * gr->cum_len[gr->streets - 1];
    size_t lo = 0, hi = gr->streets - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gr->cum_len[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    struct geo_road_edge ed;
    geo_roads_edge(gr->g, gr->street[lo], &ed);
    double t = rng_unit(), la, lo1, lb, lo2;
    geo_roads_node(gr->g, ed.tail, &la, &lo1);
    geo_roads_node(gr->g, ed.head, &lb, &lo2);
    *lat = la + t * (lb - la);
    *lon = lo1 + t * (lo2 - lo1);
}

static void snap_or_die(const struct graph *gr, double lat, double lon, struct geo_snap *s)
{
    int rc = geo_roads_snap(gr->g, lat, lon, REC_SNAP_M, s);
    if (rc)
        die("cannot snap (%.7f, %.7f): %s", lat, lon, am_strerror(rc));
}

/* ------------------------------------------------------------- figures */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct lat_stats {
    double p50_us, p99_us, max_us, mean_us;
    size_t n;
};

/* Nearest-rank percentiles of latencies in ns (sorts the array). */
static struct lat_stats lat_stats(int64_t *ns, size_t n)
{
    struct lat_stats s = {0};
    s.n = n;
    if (n == 0)
        return s;
    qsort(ns, n, sizeof(*ns), cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)ns[i];
    size_t i50 = (size_t)ceil(0.50 * (double)n) - 1, i99 = (size_t)ceil(0.99 * (double)n) - 1;
    s.p50_us = ns[i50] / 1e3;
    s.p99_us = ns[i99] / 1e3;
    s.max_us = ns[n - 1] / 1e3;
    s.mean_us = sum / (double)n / 1e3;
    return s;
}

static void fmt_us(char *buf, size_t sz, double us)
{
    if (us >= 1000)
        snprintf(buf, sz, "%.1f ms", us / 1000);
    else
        snprintf(buf, sz, "%.1f µs", us);
}

static void print_row(const char *what, const struct lat_stats *s)
{
    char a[32], b[32], c[32], d[32];
    fmt_us(a, sizeof(a), s->p50_us);
    fmt_us(b, sizeof(b), s->p99_us);
    fmt_us(c, sizeof(c), s->max_us);
    fmt_us(d, sizeof(d), s->mean_us);
    printf("| %s | %zu | %s | %s | %s | %s |\n", what, s->n, a, b, c, d);
}

/* ------------------------------------------------------------- the peer */

static PGconn *pg_connect(void)
{
    PGconn *c = PQconnectdb(opt.conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        die("cannot connect to PostgreSQL: %s", PQerrorMessage(c));
    return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die("%s\nSQL: %.300s", PQerrorMessage(c), sql);
    PQclear(r);
}

/* COPY FROM STDIN of a text buffer. */
static void pg_copy(PGconn *c, const char *sql, const char *data, size_t len)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        die("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    if (PQputCopyData(c, data, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1)
        die("COPY: %s", PQerrorMessage(c));
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("COPY: %s", PQerrorMessage(c));
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
}

/* A growing text buffer for COPY data and SQL. */
struct text {
    char *p;
    size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("vsnprintf");
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t want = t->cap ? t->cap * 2 : 1 << 16;
        while (want < t->len + (size_t)n + 1)
            want *= 2;
        char *p = realloc(t->p, want);
        if (!p)
            die("out of memory");
        t->p = p;
        t->cap = want;
    }
}

/* The graph as the peer's table rec_roads: one row per street, ids 1-based. */
static void pg_load_graph(PGconn *c, const struct graph *gr)
{
    pg_exec(c, "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis; CREATE "
               "EXTENSION IF NOT EXISTS pgrouting;"
               "DROP TABLE IF EXISTS rec_roads, rec_units;"
               "CREATE TABLE rec_roads (id bigint PRIMARY KEY, source bigint NOT NULL,"
               " target bigint NOT NULL, cost float8 NOT NULL, reverse_cost float8 NOT NULL);"
               "CREATE TABLE rec_units (pid bigint PRIMARY KEY, edge_id bigint NOT NULL,"
               " fraction float8 NOT NULL, side char NOT NULL);");
    struct text t = {0};
    for (uint32_t e = 0; e < gr->info.edges; e++) {
        if (gr->pg_edge[e] != e + 1)
            continue;
        struct geo_road_edge ed, et;
        geo_roads_edge(gr->g, e, &ed);
        int64_t tw = gr->twin[e];
        bool paired = tw >= 0 && gr->twin[tw] == (int64_t)e;
        double rev = -1;
        if (paired) {
            geo_roads_edge(gr->g, (uint32_t)tw, &et);
            rev = et.time_ms / 1000.0;
        }
        text_add(&t, "%u\t%u\t%u\t%.3f\t%.3f\n", e + 1, ed.tail + 1, ed.head + 1,
                 ed.time_ms / 1000.0, rev);
    }
    pg_copy(c, "COPY rec_roads FROM STDIN", t.p, t.len);
    free(t.p);
}

/* The units' snapped points as the peer's points: pid i + 1. */
static void pg_load_units(PGconn *c, const struct graph *gr, const struct geo_snap *u, size_t n)
{
    struct text t = {0};
    for (size_t i = 0; i < n; i++) {
        double f = gr->flipped[u[i].edge] ? 1 - u[i].frac : u[i].frac;
        text_add(&t, "%zu\t%u\t%.17g\tb\n", i + 1, gr->pg_edge[u[i].edge], f);
    }
    pg_exec(c, "TRUNCATE rec_units");
    pg_copy(c, "COPY rec_units FROM STDIN", t.p, t.len);
    pg_exec(c, "ANALYZE rec_roads; ANALYZE rec_units;");
    free(t.p);
}

/* The two ways to ask pgRouting for the top k; $1 is the Points SQL. */
enum { PEER_MANY_TO_ONE, PEER_REVERSED, PEER_WAYS };
static const char *const peer_name[PEER_WAYS] = {
    "pgRouting: pgr_withPointsCost, units → incident (one search per unit)",
    "pgRouting: pgr_withPointsCost, incident → units on the reversed graph (one search)",
};
static const char *const peer_sql[PEER_WAYS] = {
    "SELECT -start_pid, agg_cost FROM pgr_withPointsCost("
    "'SELECT id, source, target, cost, reverse_cost FROM rec_roads', $1::text,"
    " (SELECT array_agg(-pid ORDER BY pid) FROM rec_units), -2000000000::bigint,"
    " directed => true, driving_side => 'b') ORDER BY agg_cost, start_pid DESC LIMIT $2::int",
    "SELECT -end_pid, agg_cost FROM pgr_withPointsCost("
    "'SELECT id, source, target, reverse_cost AS cost, cost AS reverse_cost FROM rec_roads',"
    " $1::text, -2000000000::bigint, (SELECT array_agg(-pid ORDER BY pid) FROM rec_units),"
    " directed => true, driving_side => 'b') ORDER BY agg_cost, end_pid DESC LIMIT $2::int",
};

struct pick {
    size_t unit;
    double eta_s;
};

/* Runs one way of the peer for the incident at `inc`; fills up to k picks. */
static size_t pg_topk(PGconn *c, int way, const struct graph *gr, const struct geo_snap *inc,
                      struct pick *out)
{
    char points[256], kbuf[16];
    double f = gr->flipped[inc->edge] ? 1 - inc->frac : inc->frac;
    snprintf(points, sizeof(points),
             "SELECT pid, edge_id, fraction, side FROM rec_units UNION ALL "
             "SELECT %lld, %u, %.17g, 'b'",
             REC_PG_PID_INC, gr->pg_edge[inc->edge], f);
    snprintf(kbuf, sizeof(kbuf), "%zu", opt.k);
    const char *params[2] = {points, kbuf};
    PGresult *r = PQexecParams(c, peer_sql[way], 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("%s", PQerrorMessage(c));
    size_t n = (size_t)PQntuples(r);
    for (size_t i = 0; i < n && i < opt.k; i++) {
        out[i].unit = (size_t)strtoull(PQgetvalue(r, (int)i, 0), NULL, 10) - 1;
        out[i].eta_s = strtod(PQgetvalue(r, (int)i, 1), NULL);
    }
    PQclear(r);
    return n < opt.k ? n : opt.k;
}

/* 0: the same units in the same order; 1: the same times, tied units in
 * another order; 2: a disagreement. */
static int compare_picks(const struct geo_rank *a, size_t na, const struct pick *b, size_t nb)
{
    if (na != nb)
        return 2;
    bool same = true;
    for (size_t i = 0; i < na; i++) {
        if (fabs(a[i].eta.eta_s - b[i].eta_s) > REC_TIE_S + 0.001 * b[i].eta_s)
            return 2;
        if (a[i].src != b[i].unit)
            same = false;
    }
    return same ? 0 : 1;
}

/* ------------------------------------------------------------- runs */

static void usage(void)
{
    fputs("usage: bench_recommend --osm FILE [--csv FILE] [--conninfo STR] [--only amane|pg]\n"
          "         [--units N] [--incidents N] [--pg-incidents N] [--quality-units N]\n"
          "         [--quality-incidents N] [--k N] [--seed N]\n",
          stderr);
    exit(2);
}

static size_t parse_count(const char *s, size_t min, size_t max, const char *what)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        die("bad %s '%s' (%zu..%zu)", what, s, min, max);
    return (size_t)v;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"osm", required_argument, NULL, 'o'},
        {"csv", required_argument, NULL, 'c'},
        {"conninfo", required_argument, NULL, 'p'},
        {"units", required_argument, NULL, 'u'},
        {"incidents", required_argument, NULL, 'i'},
        {"pg-incidents", required_argument, NULL, 'P'},
        {"quality-units", required_argument, NULL, 'U'},
        {"quality-incidents", required_argument, NULL, 'I'},
        {"k", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"only", required_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'o':
            opt.osm = optarg;
            break;
        case 'c':
            opt.csv = optarg;
            break;
        case 'p':
            opt.conninfo = optarg;
            break;
        case 'u':
            opt.units = parse_count(optarg, 1, REC_MAX_UNITS, "unit count");
            break;
        case 'i':
            opt.incidents = parse_count(optarg, 1, REC_MAX_INCIDENT, "incident count");
            break;
        case 'P':
            opt.pg_incidents = parse_count(optarg, 0, REC_MAX_INCIDENT, "incident count");
            break;
        case 'U':
            opt.q_units = parse_count(optarg, 1, REC_MAX_UNITS, "unit count");
            break;
        case 'I':
            opt.q_incidents = parse_count(optarg, 0, REC_MAX_INCIDENT, "incident count");
            break;
        case 'k':
            opt.k = parse_count(optarg, 1, REC_MAX_K, "k");
            break;
        case 's':
            opt.seed = parse_count(optarg, 0, SIZE_MAX, "seed");
            break;
        case 'O':
            if (strcmp(optarg, "amane") && strcmp(optarg, "pg"))
                die("--only takes amane or pg");
            opt.only = optarg;
            break;
        default:
            usage();
        }
    }
    if (!opt.osm || optind != argc)
        usage();
    bool run_amane = !opt.only || strcmp(opt.only, "amane") == 0;
    bool run_pg = opt.conninfo && (!opt.only || strcmp(opt.only, "pg") == 0);
    if (opt.only && strcmp(opt.only, "pg") == 0 && !opt.conninfo)
        die("--only pg needs --conninfo");
    if (opt.pg_incidents > opt.incidents)
        opt.pg_incidents = opt.incidents;
    if (opt.k > opt.units)
        die("k (%zu) is more than the units (%zu)", opt.k, opt.units);

    struct graph gr = {0};
    char why[512];
    int64_t t0 = now_ns();
    int rc = geo_roads_open(opt.osm, &gr.g, why, sizeof(why));
    if (rc)
        die("%s", why);
    double import_s = (now_ns() - t0) / 1e9;
    geo_roads_info(gr.g, &gr.info);
    graph_twins(&gr);
    if (opt.csv)
        graph_check_csv(&gr);
    graph_pair(&gr);
    fprintf(stderr,
            "graph: %u nodes, %u edges, %zu streets, %.0f km of edges; imported in %.2f s\n",
            gr.info.nodes, gr.info.edges, gr.streets, gr.info.length_km, import_s);

    /* The units and incidents, drawn before anything is timed. */
    rng_state = opt.seed;
    size_t nu = opt.units, ni = opt.incidents;
    double *ulat = xcalloc(nu, sizeof(double)), *ulon = xcalloc(nu, sizeof(double));
    double *ilat = xcalloc(ni, sizeof(double)), *ilon = xcalloc(ni, sizeof(double));
    for (size_t i = 0; i < nu; i++)
        random_position(&gr, &ulat[i], &ulon[i]);
    for (size_t i = 0; i < ni; i++)
        random_position(&gr, &ilat[i], &ilon[i]);
    struct geo_snap *usnap = xcalloc(nu, sizeof(*usnap)), *isnap = xcalloc(ni, sizeof(*isnap));
    for (size_t i = 0; i < nu; i++)
        snap_or_die(&gr, ulat[i], ulon[i], &usnap[i]);
    for (size_t i = 0; i < ni; i++)
        snap_or_die(&gr, ilat[i], ilon[i], &isnap[i]);

    /* amane: each incident twice, with and without snapping the units. */
    struct geo_rank *ranks = xcalloc(ni * opt.k, sizeof(*ranks));
    size_t *nrank = xcalloc(ni, sizeof(size_t));
    int64_t *lat_full = xcalloc(ni, sizeof(int64_t)), *lat_rank = xcalloc(ni, sizeof(int64_t));
    struct geo_snap *scratch = xcalloc(nu, sizeof(*scratch));
    struct lat_stats st_full = {0}, st_rank = {0};
    if (run_amane || run_pg) {
        size_t warm = ni < 50 ? ni : 50;
        for (size_t i = 0; i < warm; i++) {
            struct geo_snap s;
            snap_or_die(&gr, ilat[i], ilon[i], &s);
            if (geo_roads_rank(gr.g, &s, usnap, nu, opt.k, NULL, NULL, ranks, &nrank[0]))
                die("geo_roads_rank failed");
        }
        for (size_t i = 0; i < ni; i++) {
            struct geo_snap s;
            int64_t a = now_ns();
            snap_or_die(&gr, ilat[i], ilon[i], &s);
            for (size_t j = 0; j < nu; j++)
                snap_or_die(&gr, ulat[j], ulon[j], &scratch[j]);
            rc = geo_roads_rank(gr.g, &s, scratch, nu, opt.k, NULL, NULL, ranks + i * opt.k,
                                &nrank[i]);
            int64_t b = now_ns();
            if (rc)
                die("geo_roads_rank: %s", am_strerror(rc));
            lat_full[i] = b - a;
            struct geo_rank again[REC_MAX_K];
            size_t nagain;
            a = now_ns();
            snap_or_die(&gr, ilat[i], ilon[i], &s);
            rc = geo_roads_rank(gr.g, &s, usnap, nu, opt.k, NULL, NULL, again, &nagain);
            b = now_ns();
            if (rc)
                die("geo_roads_rank: %s", am_strerror(rc));
            lat_rank[i] = b - a;
            if (nagain != nrank[i] || memcmp(again, ranks + i * opt.k, nagain * sizeof(*again)))
                die("incident %zu: two rankings of the same points differ", i);
        }
        st_full = lat_stats(lat_full, ni);
        st_rank = lat_stats(lat_rank, ni);
        fprintf(stderr,
                "amane: %zu incidents, p99 %.1f µs (with unit snapping), %.1f µs (without)\n", ni,
                st_full.p99_us, st_rank.p99_us);
    }

    /* The peer, on the first pg_incidents incidents, each way in turn. */
    struct lat_stats st_pg[PEER_WAYS] = {{0}};
    size_t agree[PEER_WAYS][3] = {{0}};
    char pg_version[64] = "";
    size_t npg = run_pg ? opt.pg_incidents : 0;
    if (npg) {
        PGconn *c = pg_connect();
        pg_load_graph(c, &gr);
        pg_load_units(c, &gr, usnap, nu);
        PGresult *r = PQexec(c, "SELECT pgr_version()");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            snprintf(pg_version, sizeof(pg_version), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        int64_t *lat = xcalloc(npg, sizeof(int64_t));
        for (int way = 0; way < PEER_WAYS; way++) {
            struct pick picks[REC_MAX_K];
            for (size_t i = 0; i < 3 && i < npg; i++) /* plans and caches warm */
                pg_topk(c, way, &gr, &isnap[i], picks);
            int64_t started = now_ns();
            for (size_t i = 0; i < npg; i++) {
                int64_t a = now_ns();
                size_t n = pg_topk(c, way, &gr, &isnap[i], picks);
                lat[i] = now_ns() - a;
                int v = compare_picks(ranks + i * opt.k, nrank[i], picks, n);
                agree[way][v]++;
                if (v == 2 && agree[way][2] <= 5) {
                    fprintf(stderr, "disagreement, incident %zu (edge %u at %.4f), %s:\n", i,
                            isnap[i].edge, isnap[i].frac, way ? "reversed" : "many-to-one");
                    for (size_t j = 0; j < opt.k; j++)
                        fprintf(stderr,
                                "  #%zu amane unit %zu %.3f s | pgRouting unit %zu %.3f s\n", j + 1,
                                j < nrank[i] ? ranks[i * opt.k + j].src : (size_t)-1,
                                j < nrank[i] ? ranks[i * opt.k + j].eta.eta_s : NAN,
                                j < n ? picks[j].unit : (size_t)-1, j < n ? picks[j].eta_s : NAN);
                }
            }
            st_pg[way] = lat_stats(lat, npg);
            fprintf(stderr, "%s: %zu incidents in %.1f s, p50 %.1f ms\n", peer_name[way], npg,
                    (now_ns() - started) / 1e9, st_pg[way].p50_us / 1000);
        }
        free(lat);
        PQfinish(c);
    }

    /* Quality: straight-line nearest against first by road. */
    size_t qn = opt.q_incidents, qu = opt.q_units, differ = 0;
    double lost_sum = 0;
    double *lost = xcalloc(qn, sizeof(double));
    double eta_best_sum = 0;
    int64_t q_ns = 0;
    if (qn && run_amane) {
        rng_state = opt.seed ^ 0x5157a11e5ULL;
        double *qlat = xcalloc(qu, sizeof(double)), *qlon = xcalloc(qu, sizeof(double));
        struct geo_snap *qs = xcalloc(qu, sizeof(*qs));
        bool *counts = xcalloc(qu, sizeof(bool));
        struct geo_eta *eta = xcalloc(qu, sizeof(*eta));
        for (size_t j = 0; j < qu; j++) {
            random_position(&gr, &qlat[j], &qlon[j]);
            snap_or_die(&gr, qlat[j], qlon[j], &qs[j]);
        }
        int64_t started = now_ns();
        for (size_t i = 0; i < qn; i++) {
            double la, lon;
            random_position(&gr, &la, &lon);
            struct geo_snap s;
            snap_or_die(&gr, la, lon, &s);
            size_t near = 0;
            double dmin = INFINITY;
            for (size_t j = 0; j < qu; j++) {
                double d = geo_distance_m(la, lon, qlat[j], qlon[j]);
                if (d < dmin) {
                    dmin = d;
                    near = j;
                }
            }
            /* Stop once the straight-line nearest unit is final: every unit
             * faster than it is final by then too. */
            counts[near] = true;
            rc = geo_roads_eta_many(gr.g, &s, qs, qu, 1, counts, NULL, eta);
            counts[near] = false;
            if (rc)
                die("geo_roads_eta_many: %s", am_strerror(rc));
            if (!isfinite(eta[near].eta_s))
                die("quality incident %zu: unit %zu not reached", i, near);
            size_t best = near;
            for (size_t j = 0; j < qu; j++)
                if (eta[j].eta_s < eta[best].eta_s)
                    best = j;
            eta_best_sum += eta[best].eta_s;
            if (eta[best].eta_s < eta[near].eta_s) {
                lost[differ] = eta[near].eta_s - eta[best].eta_s;
                lost_sum += lost[differ];
                differ++;
            }
        }
        q_ns = now_ns() - started;
        free(qlat);
        free(qlon);
        free(qs);
        free(counts);
        free(eta);
    }

    /* ---------------------------------------------------------- tables */
    printf("\n### Recommendation: the first %zu of %zu units by road ETA to an incident\n\n", opt.k,
           nu);
    printf("Graph: %s, %u nodes, %u directed edges (%zu streets). Units and incidents are random "
           "points on the roads (seed %llu). Wall-clock latency per incident.\n\n",
           opt.osm, gr.info.nodes, gr.info.edges, gr.streets, (unsigned long long)opt.seed);
    printf("| per incident | incidents | p50 | p99 | max | mean |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    if (run_amane || run_pg) {
        char what[160];
        snprintf(what, sizeof(what),
                 "amane: snap incident + snap %zu units + geo_roads_rank(k=%zu)", nu, opt.k);
        print_row(what, &st_full);
        snprintf(what, sizeof(what),
                 "amane: snap incident + geo_roads_rank(k=%zu), units snapped "
                 "when they report",
                 opt.k);
        print_row(what, &st_rank);
    }
    for (int way = 0; way < PEER_WAYS && npg; way++) {
        char what[200];
        snprintf(what, sizeof(what), "%s%s%s", peer_name[way], pg_version[0] ? ", " : "",
                 pg_version);
        print_row(what, &st_pg[way]);
    }
    if (npg) {
        printf("\n| peer | same top %zu | same times, ties reordered | disagree |\n", opt.k);
        printf("|---|---:|---:|---:|\n");
        for (int way = 0; way < PEER_WAYS; way++)
            printf("| %s | %zu | %zu | %zu |\n", peer_name[way], agree[way][0], agree[way][1],
                   agree[way][2]);
        printf("\n| speed ratio, pgRouting ÷ amane | p50 | p99 |\n|---|---:|---:|\n");
        static const char *const short_name[PEER_WAYS] = {"units → incident",
                                                          "reversed graph, one search"};
        for (int way = PEER_WAYS - 1; way >= 0; way--) {
            printf("| %s ÷ amane with unit snapping | %.0f× | %.0f× |\n", short_name[way],
                   st_pg[way].p50_us / st_full.p50_us, st_pg[way].p99_us / st_full.p99_us);
            printf("| %s ÷ amane, units snapped when they report | %.0f× | %.0f× |\n",
                   short_name[way], st_pg[way].p50_us / st_rank.p50_us,
                   st_pg[way].p99_us / st_rank.p99_us);
        }
        /* The targets, against pgRouting's faster way. */
        int fast = st_pg[PEER_REVERSED].p99_us <= st_pg[PEER_MANY_TO_ONE].p99_us ? PEER_REVERSED
                                                                                 : PEER_MANY_TO_ONE;
        double r_full = st_pg[fast].p99_us / st_full.p99_us;
        double r_rank = st_pg[fast].p99_us / st_rank.p99_us;
        printf("\nTargets (p99, against pgRouting's faster way): amane < 1 ms: %s with unit "
               "snapping (%.1f µs), %s with units snapped when they report (%.1f µs); "
               "≥ 500× faster: %s with unit snapping (%.0f×), %s without (%.0f×).\n",
               st_full.p99_us < 1000 ? "met" : "MISSED", st_full.p99_us,
               st_rank.p99_us < 1000 ? "met" : "MISSED", st_rank.p99_us,
               r_full >= 500 ? "met" : "MISSED", r_full, r_rank >= 500 ? "met" : "MISSED", r_rank);
    }
    if (qn && run_amane) {
        printf("\n### Straight line or road: %zu incidents, %zu units\n\n", qn, qu);
        printf("| incidents | straight-line nearest unit is not the first by road | "
               "seconds lost when it is sent instead: mean | median | p90 | max | "
               "mean ETA of the first by road |\n");
        printf("|---:|---:|---:|---:|---:|---:|---:|\n");
        double med = 0, p90 = 0, mx = 0;
        if (differ) {
            qsort(lost, differ, sizeof(double), cmp_double);
            med = lost[(size_t)ceil(0.5 * (double)differ) - 1];
            p90 = lost[(size_t)ceil(0.9 * (double)differ) - 1];
            mx = lost[differ - 1];
        }
        printf("| %zu | %zu (%.1f %%) | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s |\n", qn, differ,
               100.0 * (double)differ / (double)qn, differ ? lost_sum / (double)differ : 0.0, med,
               p90, mx, eta_best_sum / (double)qn);
        printf("\n(%zu road searches in %.2f s, %.1f µs each.)\n", qn, q_ns / 1e9,
               q_ns / 1e3 / (double)qn);
    }

    free(lost);
    free(scratch);
    free(lat_full);
    free(lat_rank);
    free(nrank);
    free(ranks);
    free(usnap);
    free(isnap);
    free(ulat);
    free(ulon);
    free(ilat);
    free(ilon);
    free(gr.twin);
    free(gr.pg_edge);
    free(gr.flipped);
    free(gr.street);
    free(gr.cum_len);
    geo_roads_free(gr.g);
    return 0;
}
