/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * stats.c - response-time intervals per incident (call to creation,
 * creation to dispatch, dispatch to en route, en route to on scene) and
 * their 50th and 90th percentiles per sector, priority or day, as JSON or
 * CSV: the figures a supervisor reports on.
 */
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

#define STATS_MAX_ROWS 200000
#define NINTERVALS     4

static const char *const interval_names[NINTERVALS] = {
    "call_to_created", "created_to_dispatched", "dispatched_to_en_route", "en_route_to_on_scene"};

struct sample {
    char key[32];
    int64_t t[NINTERVALS + 1]; /* call, created, dispatched, en route, on scene; 0 if none */
};

struct collect {
    const char *group;
    struct sample *rows;
    size_t n, cap;
    bool too_many;
};

static int collect_row(struct store_row *r, void *arg)
{
    struct collect *c = arg;
    if (c->n == STATS_MAX_ROWS) {
        c->too_many = true;
        return 1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct sample *p = realloc(c->rows, cap * sizeof(*p));
        if (!p)
            return AM_ENOMEM;
        c->rows = p;
        c->cap = cap;
    }
    struct sample *s = &c->rows[c->n++];
    if (!strcmp(c->group, "priority")) {
        snprintf(s->key, sizeof(s->key), "%lld", (long long)store_row_i64(r, 0));
    } else if (!strcmp(c->group, "day")) {
        char ts[AM_TIME_BUFSZ];
        am_time_fmt(store_row_i64(r, 2), ts, sizeof(ts));
        ts[10] = '\0'; /* YYYY-MM-DD, UTC */
        am_strlcpy(s->key, ts, sizeof(s->key));
    } else {
        am_strlcpy(s->key, store_row_null(r, 1) ? "none" : store_row_text(r, 1), sizeof(s->key));
    }
    for (int i = 0; i <= NINTERVALS; i++)
        s->t[i] = store_row_null(r, 2 + i) ? 0 : store_row_i64(r, 2 + i);
    return 0;
}

struct range {
    int64_t from, to;
    struct collect *c;
};

static int collect_read(struct store_conn *conn, void *arg)
{
    struct range *rg = arg;
    int rc = store_query(conn,
                         "SELECT priority, sector_code, call_us, created_us, dispatched_us,"
                         " enroute_us, onscene_us FROM incidents WHERE created_us >= ?"
                         " AND created_us < ? AND merged_into IS NULL",
                         collect_row, rg->c, "ii", rg->from, rg->to);
    return rc > 0 ? 0 : rc;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct sample *)a)->key, ((const struct sample *)b)->key);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values, in seconds. */
static double pct(const int64_t *v, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e6;
}

int cad_stats_response(struct cad *cad, const char *group, int64_t from, int64_t to, json_t **out)
{
    if (strcmp(group, "sector") && strcmp(group, "priority") && strcmp(group, "day"))
        return AM_EINVAL;
    struct collect c = {group, NULL, 0, 0, false};
    struct range rg = {from, to, &c};
    int rc = store_read(cad->st, collect_read, &rg);
    if (!rc && c.too_many)
        rc = AM_ETOOBIG;
    if (rc) {
        free(c.rows);
        return rc;
    }
    qsort(c.rows, c.n, sizeof(*c.rows), cmp_key);
    json_t *groups = json_array();
    int64_t *vals = malloc((c.n ? c.n : 1) * sizeof(*vals));
    if (!groups || !vals) {
        free(c.rows);
        free(vals);
        json_decref(groups);
        return AM_ENOMEM;
    }
    for (size_t i = 0; i < c.n;) {
        size_t j = i;
        while (j < c.n && !strcmp(c.rows[j].key, c.rows[i].key))
            j++;
        json_t *g = json_pack("{ss sI}", "key", c.rows[i].key, "incidents", (json_int_t)(j - i));
        for (int k = 0; k < NINTERVALS; k++) {
            size_t n = 0;
            for (size_t r = i; r < j; r++)
                if (c.rows[r].t[k] && c.rows[r].t[k + 1] && c.rows[r].t[k + 1] >= c.rows[r].t[k])
                    vals[n++] = c.rows[r].t[k + 1] - c.rows[r].t[k];
            qsort(vals, n, sizeof(*vals), cmp_i64);
            json_object_set_new(g, interval_names[k],
                                n ? json_pack("{sI sf sf}", "n", (json_int_t)n, "p50_s",
                                              pct(vals, n, 0.5), "p90_s", pct(vals, n, 0.9))
                                  : json_pack("{sI sn sn}", "n", (json_int_t)0, "p50_s", "p90_s"));
        }
        json_array_append_new(groups, g);
        i = j;
    }
    free(vals);
    free(c.rows);
    char f[AM_TIME_BUFSZ], t[AM_TIME_BUFSZ];
    *out = json_pack("{ss ss ss so}", "group", group, "from", am_time_fmt(from, f, sizeof(f)), "to",
                     am_time_fmt(to, t, sizeof(t)), "groups", groups);
    return *out ? 0 : AM_ENOMEM;
}

int cad_stats_csv(const json_t *stats, struct am_buf *out)
{
    int rc = am_buf_printf(out, "%s,incidents,interval,n,p50_s,p90_s\r\n",
                           json_string_value(json_object_get(stats, "group")));
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(stats, "groups"), i, g)
    {
        for (int k = 0; k < NINTERVALS && !rc; k++) {
            json_t *v = json_object_get(g, interval_names[k]);
            json_t *p50 = json_object_get(v, "p50_s"), *p90 = json_object_get(v, "p90_s");
            /* Keys are sector codes, digits or dates: no quoting needed, but be safe. */
            const char *key = json_string_value(json_object_get(g, "key"));
            bool quote = strpbrk(key, ",\"\r\n") != NULL;
            rc = am_buf_printf(
                out, "%s%s%s,%lld,%s,%lld,", quote ? "\"" : "", key, quote ? "\"" : "",
                (long long)json_integer_value(json_object_get(g, "incidents")), interval_names[k],
                (long long)json_integer_value(json_object_get(v, "n")));
            if (!rc && json_is_number(p50))
                rc = am_buf_printf(out, "%.3f,%.3f\r\n", json_number_value(p50),
                                   json_number_value(p90));
            else if (!rc)
                rc = am_buf_printf(out, ",\r\n");
        }
    }
    return rc;
}
