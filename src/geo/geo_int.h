/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * geo_int.h - private to src/geo and its tests: the area reader with limits
 * chosen by the caller, so that tests reach each limit with small inputs
 * instead of a 64 MiB file. Everything else uses geo.h.
 */
#ifndef AM_GEO_INT_H
#define AM_GEO_INT_H

#include <stddef.h>

#include "geo/geo.h"

/* Limits of one read; geo_areas_load_buffer() uses the GEO_MAX_* values. */
struct geo_limits {
    size_t max_bytes;
    size_t max_features;
    size_t max_points;
};

/* geo_areas_load_buffer() with the limits in `lim` (each at most its GEO_MAX_*). */
int geo_areas_load_limited(const char *buf, size_t len, const struct geo_limits *lim,
                           struct geo_areas **out, char *why, size_t whysz);

#endif
