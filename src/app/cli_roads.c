/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_roads.c - `amane roads`: import an OpenStreetMap extract into the
 * road graph amaned routes on, describe a graph, export its edges (for
 * pgRouting and other peers), and ask for one route from the shell. These
 * commands need no database.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"

static int usage(void)
{
    fputs("usage: amane roads import FILE.osm|FILE.pbf [--rural] [--out GRAPH]\n"
          "       amane roads info [GRAPH]\n"
          "       amane roads export [GRAPH] --csv OUT.csv|-\n"
          "       amane roads route --from LAT,LON --to LAT,LON [--emergency] [--graph GRAPH]\n",
          stderr);
    return 2;
}

/* Parses "LAT,LON" in degrees. */
static int parse_point(const char *s, double *lat, double *lon)
{
    char *end;
    errno = 0;
    *lat = strtod(s, &end);
    if (end == s || *end != ',' || errno)
        return AM_EINVAL;
    const char *p = end + 1;
    *lon = strtod(p, &end);
    if (end == p || *end || errno || !isfinite(*lat) || !isfinite(*lon) || *lat < -90 ||
        *lat > 90 || *lon < -180 || *lon > 180)
        return AM_EINVAL;
    return 0;
}

static int open_graph(struct app *a, const char *given, struct geo_roads **g)
{
    char path[1100], why[512];
    if (given)
        snprintf(path, sizeof(path), "%s", given);
    else
        app_roads_path(&a->cfg, path, sizeof(path));
    if (!path[0])
        return cli_fail("routing is off (roads.graph = off)");
    int rc = geo_roads_open(path, g, why, sizeof(why));
    if (rc)
        return cli_fail("cannot load the road graph: %s", why);
    return 0;
}

static void print_info(const struct geo_roads *g)
{
    struct geo_roads_info in;
    geo_roads_info(g, &in);
    printf("nodes %u\nedges %u\ndropped_nodes %u\nlength_km %.1f\n", in.nodes, in.edges,
           in.dropped_nodes, in.length_km);
    printf("bbox %.7f,%.7f,%.7f,%.7f\n", in.min_lat, in.min_lon, in.max_lat, in.max_lon);
    for (int c = 0; c < GEO_RC_COUNT; c++)
        if (in.edges_by_class[c])
            printf("edges.%s %u\n", geo_road_class_name(c), in.edges_by_class[c]);
}

static int cmd_import(struct app *a, int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    struct geo_roads_import_opts o = {0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--rural") == 0)
            o.rural = true;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage();
    }
    if (!file)
        return usage();
    char defout[1100], why[512];
    if (!out) {
        app_roads_default_out(&a->cfg, defout, sizeof(defout));
        out = defout;
    }
    int64_t t0 = am_now_us();
    struct geo_roads *g = NULL;
    int rc = geo_roads_import(file, &o, &g, why, sizeof(why));
    if (rc)
        return cli_fail("cannot import: %s", why);
    int64_t t1 = am_now_us();
    rc = geo_roads_save(g, out, why, sizeof(why));
    if (rc) {
        geo_roads_free(g);
        return cli_fail("cannot save the graph: %s", why);
    }
    print_info(g);
    printf("import_ms %lld\nwritten %s\n", (long long)((t1 - t0) / 1000), out);
    geo_roads_free(g);
    return 0;
}

static int cmd_info(struct app *a, int argc, char **argv)
{
    if (argc > 1)
        return usage();
    struct geo_roads *g = NULL;
    int64_t t0 = am_now_us();
    if (open_graph(a, argc ? argv[0] : NULL, &g))
        return 1;
    int64_t t1 = am_now_us();
    print_info(g);
    printf("load_ms %.1f\n", (double)(t1 - t0) / 1000.0);
    geo_roads_free(g);
    return 0;
}

static int cmd_export(struct app *a, int argc, char **argv)
{
    const char *graph = NULL, *csv = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv = argv[++i];
        else if (argv[i][0] != '-' && !graph)
            graph = argv[i];
        else
            return usage();
    }
    if (!csv)
        return usage();
    struct geo_roads *g = NULL;
    if (open_graph(a, graph, &g))
        return 1;
    FILE *f = strcmp(csv, "-") == 0 ? stdout : fopen(csv, "w");
    if (!f) {
        geo_roads_free(g);
        return cli_fail("cannot create '%s': %s", csv, strerror(errno));
    }
    struct geo_roads_info in;
    geo_roads_info(g, &in);
    fputs("edge,twin,source,target,cost_s,length_m,class,lat1,lon1,lat2,lon2\n", f);
    for (uint32_t e = 0; e < in.edges; e++) {
        struct geo_road_edge ed;
        double la1, lo1, la2, lo2;
        geo_roads_edge(g, e, &ed);
        geo_roads_node(g, ed.tail, &la1, &lo1);
        geo_roads_node(g, ed.head, &la2, &lo2);
        uint32_t twin = ed.twin;
        fprintf(f, "%u,%lld,%u,%u,%u.%03u,%.2f,%s,%.7f,%.7f,%.7f,%.7f\n", e,
                twin == GEO_NONE ? -1LL : (long long)twin, ed.tail, ed.head, ed.time_ms / 1000,
                ed.time_ms % 1000, ed.length_m, geo_road_class_name(ed.rclass), la1, lo1, la2, lo2);
    }
    int bad = ferror(f);
    if (f != stdout)
        bad |= fclose(f);
    else
        bad |= fflush(f);
    geo_roads_free(g);
    if (bad)
        return cli_fail("cannot write '%s'", csv);
    return 0;
}

static int cmd_route(struct app *a, int argc, char **argv)
{
    const char *graph = NULL;
    double flat = NAN, flon = NAN, tlat = NAN, tlon = NAN;
    bool emergency = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            if (parse_point(argv[++i], &flat, &flon))
                return cli_fail("--from: want LAT,LON in degrees, not '%s'", argv[i]);
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            if (parse_point(argv[++i], &tlat, &tlon))
                return cli_fail("--to: want LAT,LON in degrees, not '%s'", argv[i]);
        } else if (strcmp(argv[i], "--graph") == 0 && i + 1 < argc) {
            graph = argv[++i];
        } else if (strcmp(argv[i], "--emergency") == 0) {
            emergency = true;
        } else {
            return usage();
        }
    }
    if (isnan(flat) || isnan(tlat))
        return usage();
    struct geo_roads *g = NULL;
    if (open_graph(a, graph, &g))
        return 1;
    struct geo_snap from, to;
    struct geo_route r;
    double max_m = (double)a->cfg.roads_snap_max_m;
    int code = 0;
    if (geo_roads_snap(g, flat, flon, max_m, &from)) {
        code = cli_fail("--from is more than %.0f m from any road", max_m);
    } else if (geo_roads_snap(g, tlat, tlon, max_m, &to)) {
        code = cli_fail("--to is more than %.0f m from any road", max_m);
    } else if (geo_roads_route(g, &from, &to, emergency ? &geo_speed_emergency : NULL, &r)) {
        code = cli_fail("no route");
    } else {
        printf("{\"eta_s\":%.3f,\"length_m\":%.1f,\"from_snap_m\":%.1f,\"to_snap_m\":%.1f,"
               "\"points\":%zu}\n",
               r.eta_s, r.length_m, from.dist_m, to.dist_m, r.npoints);
        geo_route_release(&r);
    }
    geo_roads_free(g);
    return code;
}

int cli_roads(struct app *a, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    if (strcmp(argv[0], "import") == 0)
        return cmd_import(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "info") == 0)
        return cmd_info(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "export") == 0)
        return cmd_export(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "route") == 0)
        return cmd_route(a, argc - 1, argv + 1);
    return usage();
}
