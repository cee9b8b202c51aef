/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * wire.c - builds the running system from the configuration: store (with
 * every module's migrations), bus, auth, HTTP server and routes.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "cad/cad.h"

int app_config(struct am_config *cfg, int *argc, char **argv, char **envp)
{
    char why[300];
    am_config_defaults(cfg);
    const char *file = NULL;
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < *argc) {
            file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    int rc = 0;
    if (file) {
        rc = am_config_load_file(cfg, file, why, sizeof(why));
    } else if (access("amane.conf", R_OK) == 0) {
        rc = am_config_load_file(cfg, "amane.conf", why, sizeof(why));
    }
    if (!rc)
        rc = am_config_apply_env(cfg, envp, why, sizeof(why));
    if (!rc)
        rc = am_config_apply_args(cfg, argc, argv, why, sizeof(why));
    if (!rc && !cfg->tls_cert[0] != !cfg->tls_key[0]) {
        snprintf(why, sizeof(why),
                 "server.tls_cert and server.tls_key go together: set both "
                 "for HTTPS, or neither");
        rc = AM_EINVAL;
    }
    if (rc) {
        fprintf(stderr, "amane: configuration: %s\n", why);
        return AM_EINVAL;
    }
    enum am_log_level lvl;
    if (!am_log_parse_level(cfg->log_level, &lvl))
        am_log_set_level(lvl);
    return 0;
}

static int mkdir_parents(const char *path)
{
    char dir[512];
    am_strlcpy(dir, path, sizeof(dir));
    char *d = dirname(dir);
    char partial[512] = "";
    size_t n = 0;
    for (const char *p = d; *p; p++) {
        if (n + 1 >= sizeof(partial))
            return AM_EINVAL;
        partial[n++] = *p;
        partial[n] = '\0';
        if ((p[1] == '/' || p[1] == '\0') && strcmp(partial, "/") != 0 &&
            strcmp(partial, ".") != 0) {
            if (mkdir(partial, 0750) && errno != EEXIST)
                return AM_EIO;
        }
    }
    return 0;
}

static struct store_migration *all_migrations(size_t *n)
{
    const struct {
        const struct store_migration *m;
        size_t n;
    } mods[] = {{auth_migrations, auth_nmigrations},
                {cad_migrations, cad_nmigrations},
                {avl_migrations, avl_nmigrations},
                {records_migrations, records_nmigrations}};
    size_t total = 0;
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
        total += mods[i].n;
    struct store_migration *m = calloc(total, sizeof(*m));
    if (!m)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
        memcpy(m + at, mods[i].m, mods[i].n * sizeof(*m));
        at += mods[i].n;
    }
    *n = total;
    return m;
}

/* Places a point for CAD: region, prefecture and sector from the loaded boundaries. */
static int locate(void *arg, double lat, double lon, struct cad_place *out)
{
    struct app *a = arg;
    struct geo_place p;
    int rc = geo_place_lookup(a->regions, a->provinces, a->sectors, lat, lon, &p);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    am_strlcpy(out->region_code, p.region_code, sizeof(out->region_code));
    am_strlcpy(out->region_fr, p.region_fr, sizeof(out->region_fr));
    am_strlcpy(out->region_ar, p.region_ar, sizeof(out->region_ar));
    am_strlcpy(out->prefecture_code, p.prefecture_code, sizeof(out->prefecture_code));
    am_strlcpy(out->prefecture_fr, p.prefecture_fr, sizeof(out->prefecture_fr));
    am_strlcpy(out->prefecture_ar, p.prefecture_ar, sizeof(out->prefecture_ar));
    am_strlcpy(out->sector_code, p.sector_code, sizeof(out->sector_code));
    am_strlcpy(out->sector_fr, p.sector_fr, sizeof(out->sector_fr));
    am_strlcpy(out->sector_ar, p.sector_ar, sizeof(out->sector_ar));
    return 0;
}

/* Loads one GeoJSON file of areas; `rel` is under data_dir unless absolute. */
static int load_areas(const struct am_config *c, const char *rel, struct geo_areas **out)
{
    char path[1100], why[256];
    if (rel[0] == '/')
        snprintf(path, sizeof(path), "%s", rel);
    else
        snprintf(path, sizeof(path), "%s/%s", c->data_dir, rel);
    int rc = geo_areas_load_file(path, out, why, sizeof(why));
    if (rc)
        am_error("app", "cannot load areas", "path=\"%s\" why=\"%s\"", path, why);
    return rc;
}

void app_roads_default_out(const struct am_config *c, char *out, size_t outsz)
{
    const char *slash = strrchr(c->db_path, '/');
    if (slash)
        snprintf(out, outsz, "%.*s/roads.graph", (int)(slash - c->db_path), c->db_path);
    else
        snprintf(out, outsz, "roads.graph");
}

void app_roads_path(const struct am_config *c, char *out, size_t outsz)
{
    struct stat sb;
    if (strcmp(c->roads_graph, "off") == 0) {
        out[0] = '\0';
    } else if (c->roads_graph[0] == '/') {
        snprintf(out, outsz, "%s", c->roads_graph);
    } else if (c->roads_graph[0]) {
        snprintf(out, outsz, "%s/%s", c->data_dir, c->roads_graph);
    } else {
        app_roads_default_out(c, out, outsz);
        if (stat(out, &sb) != 0)
            snprintf(out, outsz, "%s/roads/casablanca_center.osm", c->data_dir);
    }
}

/* Loads the road graph; a missing or damaged graph stops the start, as a bad setting would. */
static int load_roads(struct app *a)
{
    char path[1100], why[512];
    app_roads_path(&a->cfg, path, sizeof(path));
    if (!path[0])
        return 0;
    int64_t t0 = am_now_us();
    int rc = geo_roads_open(path, &a->roads, why, sizeof(why));
    if (rc) {
        am_error("app", "cannot load the road graph", "path=\"%s\" why=\"%s\"", path, why);
        return rc;
    }
    struct geo_roads_info info;
    geo_roads_info(a->roads, &info);
    am_info("app", "road graph loaded", "path=\"%s\" nodes=%u edges=%u ms=%lld", path, info.nodes,
            info.edges, (long long)((am_now_us() - t0) / 1000));
    return 0;
}

static int authn(void *arg, const char *token, struct am_principal *out)
{
    return auth_authenticate(arg, token, out);
}

int app_open(struct app *a, bool serve)
{
    a->started_us = am_now_us();
    struct am_config *c = &a->cfg;
    if (mkdir_parents(c->db_path)) {
        am_error("app", "cannot create the database directory", "path=\"%s\"", c->db_path);
        return AM_EIO;
    }
    /* Before any thread starts: am_tz_spans sets TZ while it works. */
    int64_t year = 365LL * 86400 * 1000000;
    if (serve && am_tz_spans("Africa/Casablanca", a->started_us - year, a->started_us + 2 * year,
                             a->tz, sizeof(a->tz) / sizeof(a->tz[0]), &a->ntz))
        am_warn("app", "no tz data for Africa/Casablanca; the web apps will use the browser's",
                NULL);
    /*
     * Also before any thread starts: reading an .osm extract forks a child
     * (osm.c), and a child forked while another thread holds an allocator
     * lock (the store's writer, at start) waits for it forever - seen as an
     * amaned that never wrote its first log line.
     */
    int rc = serve ? load_roads(a) : 0;
    if (rc)
        return rc;
    rc = bus_new(&a->bus);
    if (rc)
        return rc;
    size_t nmig = 0;
    struct store_migration *mig = all_migrations(&nmig);
    if (!mig)
        return AM_ENOMEM;
    struct store_opts so = {
        .path = c->db_path,
        .readers = c->readers,
        .max_batch = c->max_batch,
        .sync_full = strcmp(c->synchronous, "full") == 0,
        .migrations = mig,
        .nmigrations = nmig,
        .on_commit = bus_publish,
        .on_commit_arg = a->bus,
    };
    rc = store_open(&a->store, &so);
    free(mig);
    if (rc) {
        am_error("app", "cannot open the store", "path=\"%s\" err=\"%s\"", c->db_path,
                 am_strerror(rc));
        return rc;
    }
    struct auth_opts ao = {c->token_ttl_s, c->lockout_threshold, c->lockout_s};
    rc = auth_new(&a->auth, a->store, &ao);
    if (rc)
        return rc;
    /* Incidents are placed in Morocco's regions, prefectures and police sectors. */
    rc = load_areas(c, "boundaries/morocco_regions.geojson", &a->regions);
    if (!rc)
        rc = load_areas(c, "boundaries/morocco_provinces.geojson", &a->provinces);
    if (!rc && c->cad_sectors[0])
        rc = load_areas(c, c->cad_sectors, &a->sectors);
    if (rc)
        return rc;
    struct cad_opts co = {.ack_timeout_s = c->cad_ack_timeout_s,
                          .onscene_timeout_s = c->cad_onscene_timeout_s,
                          .locate = locate,
                          .locate_arg = a};
    am_strlcpy(co.default_prefecture, c->cad_default_prefecture, sizeof(co.default_prefecture));
    am_strlcpy(co.agency, c->cad_agency, sizeof(co.agency));
    memcpy(co.ack_by_priority_s, c->cad_ack_timeout_p, sizeof(co.ack_by_priority_s));
    memcpy(co.onscene_by_priority_s, c->cad_onscene_timeout_p, sizeof(co.onscene_by_priority_s));
    co.roads = a->roads;
    co.snap_max_m = (double)c->roads_snap_max_m;
    co.stale_s = c->roads_stale_s;
    rc = cad_new(&a->cad, a->store, &co);
    if (!rc)
        rc = avl_new(&a->avl, a->store, a->cad, NULL);
    if (rc || !serve)
        return rc;
    rc = records_new(&a->records, a->store, a->avl, a->cad);
    if (!rc)
        rc = records_start(a->records);
    if (!rc)
        rc = bus_subscribe(a->bus, records_on_events, a->records);
    if (rc)
        return rc;
    rc = cad_timers_start(a->cad);
    if (!rc)
        rc = avl_start(a->avl);
    if (rc)
        return rc;
    struct http_opts ho = {
        .listen = c->listen,
        .port = c->port,
        .workers = c->workers,
        .body_limit = (size_t)c->body_limit,
        .tls_cert = c->tls_cert,
        .tls_key = c->tls_key,
        .web_root = c->web_root,
        .stream_ring = c->stream_ring,
        .store = a->store,
        .authenticate = authn,
        .authn_arg = a->auth,
        .visible = auth_event_visible,
    };
    rc = http_server_new(&a->http, &ho);
    if (!rc)
        rc = bus_subscribe(a->bus, http_stream_publish, a->http);
    if (!rc)
        rc = app_routes_core(a);
    if (!rc)
        rc = cad_routes(a->http, a->cad);
    if (!rc)
        rc = app_routes_roads(a);
    if (!rc)
        rc = app_routes_map(a);
    if (!rc)
        rc = avl_routes(a->http, a->avl);
    if (!rc)
        rc = records_routes(a->http, a->records);
    if (!rc)
        avl_stream(a->avl, a->http);
    int osmand = -1, teltonika = -1;
    if (!rc)
        rc = avl_listen(a->avl, a->http, c->avl_osmand_port, &osmand, c->avl_teltonika_port,
                        &teltonika);
    if (!rc && osmand >= 0)
        am_info("app", "listening for devices", "protocol=osmand port=%d", osmand);
    if (!rc && teltonika >= 0)
        am_info("app", "listening for devices", "protocol=teltonika port=%d", teltonika);
    if (!rc && c->avl_mqtt_host[0])
        rc = avl_mqtt_start(a->avl, c->avl_mqtt_host, c->avl_mqtt_port, c->avl_mqtt_client_id,
                            c->avl_mqtt_clients, &a->mqtt);
    if (!rc && a->mqtt) /* assignments go to the vehicles */
        rc = bus_subscribe(a->bus, avl_mqtt_on_events, a->mqtt);
    if (!rc)
        rc = http_route_static(a->http);
    return rc;
}

void app_close(struct app *a)
{
    /* Workers first (they use the store), then the store (its writer feeds the stream). */
    http_drain(a->http);
    avl_mqtt_stop(a->mqtt);
    avl_free(a->avl); /* writes its last batch: before the store closes */
    records_free(a->records);
    cad_free(a->cad);
    store_close(a->store);
    http_server_free(a->http);
    auth_free(a->auth);
    bus_free(a->bus);
    geo_areas_free(a->regions);
    geo_areas_free(a->provinces);
    geo_areas_free(a->sectors);
    geo_roads_free(a->roads);
    memset(a, 0, sizeof(*a));
}
