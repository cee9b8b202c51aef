/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cad.h - computer-aided dispatch for the command and coordination rooms.
 *
 * Today: the room's logbook (main courante), the running record of
 * everything the room did and heard during a shift, append-only: an entry
 * is never edited, a correction is a new entry. Incidents, units and
 * dispatch come next, on the same store and event log.
 */
#ifndef AM_CAD_H
#define AM_CAD_H

#include "core/core.h"
#include "http/http.h"
#include "store/store.h"

extern const struct store_migration cad_migrations[];
extern const size_t cad_nmigrations;

/* Logbook categories, in the order the console offers them. */
extern const char *const cad_logbook_categories[];

/*
 * Validates and appends a logbook entry as `actor`. Returns 0 and the
 * entry's id, or AM_EINVAL with a reason in `why`.
 */
int cad_logbook_add(struct store *st, const char *actor, const char *category, const char *text,
                    int64_t *id_out, char *why, size_t whysz);

/* Registers the logbook routes: POST/GET /api/v1/logbook. */
int cad_routes(struct http_server *srv, struct store *st);

#endif
