/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * app.h - wiring of amane's modules, shared by amaned and the amane CLI:
 * configuration, then the store with every module's migrations, the bus,
 * auth, and (for the server) HTTP with every module's routes.
 */
#ifndef AM_APP_H
#define AM_APP_H

#include "auth/auth.h"
#include "avl/avl.h"
#include "bus/bus.h"
#include "cad/cad.h"
#include "core/core.h"
#include "geo/geo.h"
#include "http/http.h"
#include "records/records.h"
#include "store/store.h"

#define AMANE_VERSION "0.1.0"

struct app {
    struct am_config cfg;
    struct store *store;
    struct bus *bus;
    struct auth *auth;
    struct cad *cad;
    struct avl *avl;         /* the field link: devices, positions, trails */
    struct records *records; /* persons, vehicles, hotlists; NULL in the CLI */
    struct avl_mqtt *mqtt;   /* connected vehicles through the broker; NULL without one */
    /* Morocco's regions and provinces, and the police sectors (src/geo). */
    struct geo_areas *regions, *provinces, *sectors;
    /* The road graph for routing and recommendations; NULL with roads.graph = off. */
    struct geo_roads *roads;
    struct http_server *http; /* NULL in the CLI */
    int64_t started_us;
    /* Africa/Casablanca's offsets from the tz database, for the web apps. */
    struct am_tz_span tz[64];
    size_t ntz;
};

/*
 * Reads configuration: defaults, then `-c FILE`/`--config=FILE` (or
 * ./amane.conf if present), then AMANE_* variables, then --section.key=value
 * flags. Consumed arguments are removed from argv. Prints the reason and
 * returns AM_EINVAL on a bad setting.
 */
int app_config(struct am_config *cfg, int *argc, char **argv, char **envp);

/* Opens store, bus and auth; with `serve`, the HTTP server and its routes too. */
int app_open(struct app *a, bool serve);
void app_close(struct app *a);

/*
 * The road graph amaned loads (roads.graph): that setting under data_dir,
 * or else var/roads.graph next to the store if `amane roads import` wrote
 * one, or else the shipped Casablanca extract. Writes "" for "off".
 */
void app_roads_path(const struct am_config *c, char *out, size_t outsz);
/* Where `amane roads import` writes its graph by default: roads.graph next to the store. */
void app_roads_default_out(const struct am_config *c, char *out, size_t outsz);

/* Registers the road routes: the graph's summary and a route between two points (api_roads.c). */
int app_routes_roads(struct app *a);

/* Registers the map routes: street search, roads and boundaries for drawing (api_map.c). */
int app_routes_map(struct app *a);

/* Registers the platform's routes: auth, users, events, health, time zone (api_core.c). */
int app_routes_core(struct app *a);

#endif
