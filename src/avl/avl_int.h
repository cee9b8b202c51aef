/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * avl_int.h - private to src/avl: the service's state, shared by the intake
 * and batches (fleet.c) and the geofences (geofence.c).
 */
#ifndef AM_AVL_INT_H
#define AM_AVL_INT_H

#include <pthread.h>

#include "avl/avl.h"
#include "avl/grid.h"
#include "cad/cad.h"
#include "core/core.h"
#include "store/store.h"

struct device;
struct batch;
struct fence;

/* The geofences, in memory (geofence.c). */
struct avl_fences {
    struct fence *v;
    size_t n, cap;
};

/*
 * A unit's latest position, for the stream (live state). `gen` moves at most
 * every LIVE_UNIT_US per unit, so a client sees each unit at most twice a
 * second; a newer position that came sooner waits (`deferred`) and is
 * published when that time has passed.
 */
struct live_unit {
    struct live_unit *next;
    char unit[32];
    int64_t time_us, gen, gen_us; /* gen_us: when gen last moved (monotonic) */
    bool deferred;
    size_t dslot; /* its place in struct avl's deferred[] while deferred */
    double lat, lon, speed_mps, heading_deg;
};

struct avl {
    struct store *st;
    struct cad *cad;
    struct avl_opts o;
    struct http_server *srv; /* for the live positions on the stream; NULL in the CLI */
    struct live_unit **live; /* hash of units by callsign, under mu */
    size_t nlive_buckets;
    int64_t live_gen, live_told;
    int64_t live_told_us;        /* when the stream was last told (monotonic) */
    struct avl_grid grid;        /* the units' latest positions, for "who is near", under mu */
    struct live_unit **deferred; /* units with a position not published yet, under mu */
    size_t ndeferred, cap_deferred;

    pthread_mutex_t mu; /* the registry, the rates and the open batch */
    struct device **buckets;
    size_t nbuckets, ndevices;
    struct batch *open;  /* fixes waiting for the next flush */
    struct batch *spare; /* a written batch kept with its arrays for the next one */

    pthread_t thread;
    bool started, stopping;
    pthread_cond_t cv;
    struct avl_fences fences; /* under mu */
    int inflight;             /* batches handed to the store and not yet done, under mu */
    int64_t open_since_us;    /* when the open batch got its first position (monotonic) */
};

/* Loads the geofences (on a reader or the writer). */
int avl_fences_load(struct store_conn *c, struct avl_fences *fs);
void avl_fences_free(struct avl_fences *fs);
/*
 * Evaluates a unit's new position against every geofence inside a trail
 * batch's command: appends avl.geofence.entered / .exited on a change.
 * Takes a->mu.
 */
int avl_fences_apply(struct avl *a, struct store_conn *c, struct store_cmd *cmd, const char *unit,
                     double lat, double lon, int64_t time_us);
/* A unit's latest position from the live table; AM_ENOTFOUND if none. Call with a->mu held. */
int avl_live_position(struct avl *a, const char *unit, double *lat, double *lon);

#endif
