/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * workload.h - the command mix of a command-room shift, shared by the amane
 * load generator (loadgen.c) and its PostgreSQL peer (pgpeer.c), so that both
 * run the same commands in the same proportions.
 *
 * Each dispatcher keeps a few incidents of its own in hand. An incident is
 * opened from a call, then follows a script drawn when it is opened: one to
 * three units assigned, each en route then on scene, a few notes, some units
 * cleared (available, which releases them), then closed with a disposition,
 * which releases the rest. Units come from one pool shared by all
 * dispatchers: a unit is taken from the pool when its assignment is sent and
 * goes back when a command that releases it succeeds. So, as long as the
 * server agrees with the model, every command is legal; a 409 means the two
 * disagree (a race, or a bug).
 *
 * Not thread-safe: a caller with threads holds its own lock around
 * wl_next() and wl_done().
 */
#ifndef BENCH_CAD_WORKLOAD_H
#define BENCH_CAD_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Incidents a dispatcher keeps in hand at once. */
#define WL_ACTIVE 3
/* At most this many units on one incident. */
#define WL_UNITS_PER_INCIDENT 3
#define WL_STEPS_MAX          24
#define WL_TEXT_MAX           256

enum wl_kind {
    WL_OPEN,      /* POST /api/v1/incidents */
    WL_ASSIGN,    /* POST /api/v1/incidents/{n}/assign */
    WL_EN_ROUTE,  /* POST /api/v1/units/{c}/status en_route */
    WL_ON_SCENE,  /* POST /api/v1/units/{c}/status on_scene */
    WL_NOTE,      /* POST /api/v1/incidents/{n}/notes */
    WL_AVAILABLE, /* POST /api/v1/units/{c}/status available (releases the unit) */
    WL_CLOSE,     /* POST /api/v1/incidents/{n}/close (releases the rest) */
    WL_NKINDS
};

/* "open", "assign", ...: the names used in the JSON output. */
extern const char *const wl_kind_names[WL_NKINDS];

/* How a command ended, as the caller reports it to wl_done(). */
enum wl_outcome {
    WL_OK,       /* 2xx */
    WL_CONFLICT, /* 409: the server's state differs from the model's */
    WL_FAILED,   /* anything else: 4xx, 5xx, transport error, timeout */
};

/* One command, with every field either client needs to send it. */
struct wl_cmd {
    enum wl_kind kind;
    int dispatcher;          /* index of the dispatcher that sends it */
    int slot;                /* its incident slot */
    int unit;                /* global unit index, -1 if none */
    char number[32];         /* incident number (not for WL_OPEN) */
    char callsign[16];       /* the unit's callsign (assign and status commands) */
    const char *status;      /* en_route, on_scene, available */
    const char *type;        /* incident type code (open) */
    double lat, lon;         /* (open) */
    char address[96];        /* (open) */
    const char *caller_name; /* (open) */
    char caller_phone[24];   /* (open) */
    const char *narrative;   /* (open) */
    const char *text;        /* note text */
    const char *disposition; /* (close) */
};

struct wl_step {
    enum wl_kind kind;
    int unit_slot; /* which of the incident's units, for assign and status steps */
};

struct wl_incident {
    bool used;   /* the slot holds an incident (maybe still being opened) */
    bool opened; /* its number is known */
    char number[32];
    int units[WL_UNITS_PER_INCIDENT]; /* global unit indexes, -1 if not (or no longer) held */
    struct wl_step steps[WL_STEPS_MAX];
    int nsteps, next;
};

struct wl_dispatcher {
    struct wl_incident inc[WL_ACTIVE];
    uint64_t rng;
};

struct wl_model {
    int nunits;
    char (*callsigns)[16];
    int *free_units; /* a stack of the unit indexes that are available */
    int nfree;
    int units_lost; /* taken out of the pool after a command about them failed */
    const char **types;
    int ntypes;
    int ndispatchers;
    struct wl_dispatcher *d;
    uint64_t counts[WL_NKINDS]; /* commands handed out, per kind */
};

/*
 * Sets up a model of `nunits` units named BENCH-0001... (all available) and
 * `ndispatchers` dispatchers. `types` (not copied, must outlive the model)
 * lists the incident type codes to draw from. `seed` makes runs repeatable.
 * Returns 0, or -1 when out of memory or given bad sizes.
 */
int wl_init(struct wl_model *m, int nunits, int ndispatchers, const char **types, int ntypes,
            uint64_t seed);
void wl_release(struct wl_model *m);

/* The callsign of unit `i` (0-based): BENCH-0001 for 0. `out` holds 16 bytes. */
void wl_callsign(int i, char out[16]);

/* Draws the next command of dispatcher `d` into *out. Never fails. */
void wl_next(struct wl_model *m, int d, struct wl_cmd *out);

/*
 * Tells the model how `cmd` ended. `number` is the new incident's number
 * for a successful WL_OPEN (ignored otherwise).
 */
void wl_done(struct wl_model *m, const struct wl_cmd *cmd, enum wl_outcome outcome,
             const char *number);

/* A uniform random integer in [0, n), from a xorshift64* state. */
uint32_t wl_rand(uint64_t *state, uint32_t n);

#endif
