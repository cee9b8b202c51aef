/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * geo.h - the public header of amane's geography: sets of named areas
 * (regions, prefectures and provinces, police sectors) read from GeoJSON,
 * the point-in-area lookup that places an incident, and distances on the
 * Earth. Coordinates are WGS 84 degrees; this API takes (lat, lon) in that
 * order, while GeoJSON files store [lon, lat].
 *
 * An area set is immutable once loaded, so any number of threads may query
 * it at once without a lock.
 */
#ifndef AM_GEO_H
#define AM_GEO_H

#include <stdbool.h>
#include <stddef.h>

/* ---------------------------------------------------------------- area sets */

/* Limits on an area file, checked before or while it is read. */
#define GEO_MAX_FILE_BYTES (64u * 1024 * 1024) /* bytes of GeoJSON text */
#define GEO_MAX_FEATURES   10000               /* features in one file */
#define GEO_MAX_POINTS     5000000             /* positions in one file, all rings */

/* Sizes of the strings of an area, terminating NUL included. */
#define GEO_CODE_SZ 16  /* "MA-CAS", "MA-06", "CAS-S01": at most 15 bytes */
#define GEO_NAME_SZ 128 /* a name in one language: at most 127 bytes of UTF-8 */

/*
 * A set of areas: the features of one GeoJSON FeatureCollection, each a
 * Polygon or MultiPolygon with holes, held in compact arrays with a bounding
 * box per polygon and per feature and a uniform grid over the features'
 * boxes. Opaque; made by geo_areas_load_buffer() or geo_areas_load_file()
 * and released with geo_areas_free().
 *
 * What a file must be (anything else is refused, with a reason):
 *  - a JSON object {"type": "FeatureCollection", "features": [...]} of 1 to
 *    GEO_MAX_FEATURES features; other members ("bbox", "name"...) are ignored;
 *  - each feature {"type": "Feature", "properties": {...}, "geometry": {...}};
 *    "id" and other members are ignored;
 *  - properties: "code" (required; 1-15 bytes of A-Z a-z 0-9 - _ .; unique in
 *    the file), "name_fr", "name_ar", "name_zgh" (Tifinagh) and "parent" (the
 *    code of the enclosing area, e.g. a province's region), each optional, a
 *    string without control characters that fits its array; other properties
 *    are ignored;
 *  - geometry: "type" "Polygon" or "MultiPolygon" and "coordinates"; a
 *    polygon is 1 or more rings, the first the outline and the others holes;
 *    a ring is at least 4 positions, closed (last position = first), enclosing
 *    a non-zero area; a position is [lon, lat] or [lon, lat, altitude], finite
 *    numbers, lon in [-180, 180], lat in [-90, 90];
 *  - at most GEO_MAX_POINTS positions in all, GEO_MAX_FILE_BYTES of text.
 * Ring orientation is not checked, nor whether rings cross: the rings of a
 * polygon are combined with the even-odd rule (a hole is whatever an odd
 * number of rings encloses). Antimeridian-crossing areas are not supported.
 */
struct geo_areas;

/*
 * Reads a set of areas from `len` bytes of GeoJSON at `buf` (need not be
 * NUL-terminated). On success *out holds a new set that the caller frees with
 * geo_areas_free(). On failure *out is NULL and `why` (may be NULL if `whysz`
 * is 0) holds a one-line reason, naming the line and column of a JSON syntax
 * error, or the feature (index and code), polygon, ring and position at fault.
 * Returns 0, AM_EINVAL for input that is not a valid area file, AM_ETOOBIG
 * past a GEO_MAX_* limit, or AM_ENOMEM.
 */
int geo_areas_load_buffer(const char *buf, size_t len, struct geo_areas **out, char *why,
                          size_t whysz);

/*
 * Reads a set of areas from the file at `path`, as geo_areas_load_buffer().
 * Also returns AM_ENOTFOUND if the file does not exist, AM_EIO if it cannot
 * be read or is not a regular file, AM_ETOOBIG if it is larger than
 * GEO_MAX_FILE_BYTES. The reason names the file.
 */
int geo_areas_load_file(const char *path, struct geo_areas **out, char *why, size_t whysz);

/* Frees a set of areas; NULL is allowed. */
void geo_areas_free(struct geo_areas *areas);

/* The number of areas (features) in the set, in file order. */
size_t geo_areas_count(const struct geo_areas *areas);

/*
 * The index of the first area (in file order) that contains the point, or -1
 * if none does or the point is not finite. Areas may overlap; the first wins.
 *
 * The boundary rule is half-open, the rule of the classic crossing test:
 * a point exactly on an edge shared by two areas belongs to exactly one of
 * them, never to both and never to neither; on an area's own outline, points
 * on its left and lower sides count as inside and those on its right and
 * upper sides as outside (for a square [0,1]x[0,1], lon x lat: (0,0),
 * (0,0.5), (0.5,0) are inside, (1,0.5), (0.5,1), (1,0), (0,1), (1,1) are
 * not). This holds exactly in floating point, because an edge is always
 * evaluated from its lower end, whichever ring it comes from.
 *
 * Cost: a grid cell, then the bounding boxes of the areas listed there, then
 * the crossing test on boxes of 32 edges: about 0.1 to 0.3 microseconds for
 * the 75 provinces of Morocco (tests/unit/test_geo.c prints it).
 */
int geo_areas_find(const struct geo_areas *areas, double lat, double lon);

/*
 * The area whose outline (any edge of any ring, holes included) is nearest to
 * the point, if that distance is at most `max_m` metres; -1 otherwise or if
 * the point is not finite. If `parent` is not NULL, only areas with that
 * parent code are considered. *dist_m (may be NULL) gets the distance.
 * Distances are measured in a local flat projection around the point, which
 * is within 0.1 % of the great-circle distance below 10 km. This does not
 * test containment: use it after geo_areas_find() found nothing. Its cost
 * grows with the areas near the point (every area is checked by its box).
 */
int geo_areas_nearest(const struct geo_areas *areas, double lat, double lon, double max_m,
                      const char *parent, double *dist_m);

/* The index of the area with this code, or -1. */
int geo_areas_index(const struct geo_areas *areas, const char *code);

/*
 * Strings of area `i`: its code, French, Arabic and Tifinagh names and its
 * parent's code. Owned by the set, valid until geo_areas_free(). A name that
 * the file did not give is "". NULL if `i` is out of range.
 */
const char *geo_areas_code(const struct geo_areas *areas, size_t i);
const char *geo_areas_name_fr(const struct geo_areas *areas, size_t i);
const char *geo_areas_name_ar(const struct geo_areas *areas, size_t i);
const char *geo_areas_name_zgh(const struct geo_areas *areas, size_t i);
const char *geo_areas_parent(const struct geo_areas *areas, size_t i);

/* The bounding box of all the areas of the set, in degrees; NaN for a NULL set. */
void geo_areas_bounds(const struct geo_areas *areas, double *min_lat, double *min_lon,
                      double *max_lat, double *max_lon);

/* ---------------------------------------------------------------- places */

/*
 * How far outside every region a point may be and still be placed, in
 * metres: the boundary files follow the coast at a resolution of about
 * 150 m and leave out harbours, jetties and beaches. A point within this
 * distance of a region's edge is placed in the nearest region (and the
 * nearest prefecture of that region). The files do not tell a coast from a
 * land border, so the tolerance also holds up to 2 km beyond the land
 * borders (Algeria, Mauritania, the Spanish towns of Ceuta and Melilla; the
 * centre of Melilla is 1.98 km from the outline, part of Nouadhibou 1.2 km):
 * geo_place.edge_dist_m says when a point was placed this way.
 */
#define GEO_EDGE_TOLERANCE_M 2000.0

/* Where a point is: each string "" when unknown. Caller-owned, no release. */
struct geo_place {
    char region_code[GEO_CODE_SZ]; /* ISO 3166-2, "MA-06" */
    char region_fr[GEO_NAME_SZ];
    char region_ar[GEO_NAME_SZ];
    char prefecture_code[GEO_CODE_SZ]; /* prefecture or province, "MA-CAS" */
    char prefecture_fr[GEO_NAME_SZ];
    char prefecture_ar[GEO_NAME_SZ];
    char sector_code[GEO_CODE_SZ]; /* police sector, "CAS-S01"; "" outside every sector */
    char sector_fr[GEO_NAME_SZ];
    char sector_ar[GEO_NAME_SZ];
    /* 0 if a region or a province contains the point; else its distance in
     * metres to the region it was placed in (at most GEO_EDGE_TOLERANCE_M). */
    double edge_dist_m;
};

/*
 * Places the point (lat, lon) in its region, its prefecture or province, and
 * its police sector. `regions` and `provinces` are required, `sectors` may be
 * NULL. Each is looked up by containment (geo_areas_find()). If a province
 * contains the point and names a parent region present in `regions`, that
 * region is the answer, so that region and prefecture always agree. If no
 * region contains the point, the nearest region within GEO_EDGE_TOLERANCE_M
 * is taken, and if no province contains it, the nearest province of that
 * region within the same tolerance (of any region if the provinces name no
 * parents). Sectors are matched by containment only: a point in no sector
 * has an empty sector. On success fills *place and returns 0. Returns
 * AM_EINVAL if lat or lon is not a finite number within [-90, 90] x
 * [-180, 180] or `place` or a required set is NULL, and AM_ENOTFOUND if the
 * point is in no region and farther than GEO_EDGE_TOLERANCE_M from every one
 * (it is not in Morocco); on failure *place is all empty. Thread-safe.
 */
int geo_place_lookup(const struct geo_areas *regions, const struct geo_areas *provinces,
                     const struct geo_areas *sectors, double lat, double lon,
                     struct geo_place *place);

/* ---------------------------------------------------------------- distance */

/* The mean Earth radius of the haversine formula (IUGG), metres. */
#define GEO_EARTH_RADIUS_M 6371008.8

/*
 * The great-circle distance in metres between two points in degrees, by the
 * haversine formula on a sphere of radius GEO_EARTH_RADIUS_M (within 0.5 % of
 * the ellipsoid). NaN if any argument is NaN.
 */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
