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
#include <stdint.h>

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

/*
 * The outline of area `i` for drawing it: its polygons, each of rings (the
 * first the outline, the others holes), each ring `npoints` positions as
 * lon, lat pairs (closing position included), owned by the set.
 * geo_areas_npolygons() is 0 and geo_areas_nrings() is 0 and
 * geo_areas_ring() is NULL when an index is out of range.
 */
size_t geo_areas_npolygons(const struct geo_areas *areas, size_t i);
size_t geo_areas_nrings(const struct geo_areas *areas, size_t i, size_t polygon);
const double *geo_areas_ring(const struct geo_areas *areas, size_t i, size_t polygon, size_t ring,
                             size_t *npoints);

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

/* ---------------------------------------------------------------- roads */

/*
 * A road graph: the drivable ways of an OpenStreetMap extract as a directed
 * graph in compact arrays (compressed sparse rows, indices not pointers).
 * Every OSM node of a drivable way is a graph node, so an edge is one
 * straight segment; a two-way street is two edges, one each way ("twins").
 * Each edge has a length, a road class and a travel time in milliseconds at
 * the free-flow speed of its class or its maxspeed tag. Only the largest
 * strongly connected part is kept, so every node reaches every other.
 *
 * A graph is immutable once made, so any number of threads may query it at
 * once; queries take a scratch workspace from a small pool inside the graph
 * (guarded by a mutex held for nanoseconds). Opaque; made by
 * geo_roads_import(), geo_roads_load() or geo_roads_from_edges() and
 * released with geo_roads_free().
 */
struct geo_roads;

/* "No such edge or node" in the uint32_t fields below. */
#define GEO_NONE UINT32_MAX

/* Limits of an import and of a graph file, checked while reading. */
#define GEO_ROADS_MAX_NODES     50000000u  /* graph nodes */
#define GEO_ROADS_MAX_EDGES     120000000u /* directed edges */
#define GEO_ROADS_MAX_WAY_NODES 100000     /* node references in one way */

/*
 * Road classes, from OSM's highway=* (a *_link takes its road's class).
 * docs/routing.md gives the default speeds of each, urban and rural.
 */
enum geo_road_class {
    GEO_RC_MOTORWAY,
    GEO_RC_TRUNK,
    GEO_RC_PRIMARY,
    GEO_RC_SECONDARY,
    GEO_RC_TERTIARY,
    GEO_RC_UNCLASSIFIED,
    GEO_RC_RESIDENTIAL,
    GEO_RC_LIVING_STREET,
    GEO_RC_SERVICE,
    GEO_RC_COUNT
};

/* The OSM name of a class ("motorway"...), or NULL out of range. */
const char *geo_road_class_name(int rc);

/* Options of an import. Zero-initialised means urban defaults. */
struct geo_roads_import_opts {
    bool rural; /* use the rural default speeds where a way has no maxspeed */
    /* Read the file in this process (tests, fuzzing). By default it is read in a child
     * process, so that a crash of readosm on a damaged file is an error, not a crash. */
    bool in_process;
};

/*
 * Reads the drivable ways of an OSM file (`path` ending in .osm for XML or
 * .pbf for the protobuf format; readosm reads both) into a new graph, in
 * two passes over the file: ways first, then the nodes they use. Kept:
 * highway=motorway, trunk, primary, secondary, tertiary (and their _link),
 * unclassified, residential, living_street, service and road (as
 * unclassified), unless access=no or private or area=yes. One-way: oneway=
 * yes/true/1/-1/reverse, junction=roundabout or circular, and motorways
 * unless oneway=no. Speed: 0.8 x maxspeed (km/h, "N mph", MA:urban 60,
 * MA:rural 100, MA:motorway 120; at most 130, under 5 ignored), else the
 * class default (docs/routing.md); an edge takes at most a day. References to nodes absent from the
 * file cut the way there. On success *out is the graph (free with geo_roads_free()). On failure
 * *out is NULL and `why` (may be NULL if `whysz` is 0) says what is wrong, naming the file. Returns
 * AM_ENOTFOUND (no such file), AM_EINVAL (not .osm/.pbf, not parseable, or no drivable road in it),
 * AM_ETOOBIG (past a GEO_ROADS_MAX_* limit), AM_EIO or AM_ENOMEM.
 */
int geo_roads_import(const char *path, const struct geo_roads_import_opts *opts,
                     struct geo_roads **out, char *why, size_t whysz);

/*
 * Builds a graph from arrays (tests, benchmarks, synthetic networks):
 * `n` nodes at lat[i], lon[i] (degrees) and `m` directed edges tail[j] ->
 * head[j] with travel time time_ms[j] (> 0), length length_m[j] (>= 0) and
 * class rclass[j] (may be NULL: all unclassified). Self-loops are dropped;
 * parallel edges are kept (a search takes the faster). Unlike an import,
 * nothing is removed for connectivity. The arrays stay the caller's.
 * Returns 0, AM_EINVAL (an index, coordinate or time out of range, why
 * says which), AM_ETOOBIG or AM_ENOMEM.
 */
int geo_roads_from_edges(uint32_t n, const double *lat, const double *lon, uint32_t m,
                         const uint32_t *tail, const uint32_t *head, const uint32_t *time_ms,
                         const float *length_m, const uint8_t *rclass, struct geo_roads **out,
                         char *why, size_t whysz);

/*
 * Writes the graph to `path` (a temporary file renamed into place, fsynced)
 * in amane's binary format: a header with counts and a SHA-256 of the
 * arrays, then the arrays. Returns 0, AM_EIO (why names the file) or AM_ENOMEM.
 */
int geo_roads_save(const struct geo_roads *g, const char *path, char *why, size_t whysz);

/*
 * Reads a graph written by geo_roads_save(). Every count, index and the
 * checksum are verified, so a truncated or altered file is refused with
 * AM_ECORRUPT; AM_ENOTFOUND, AM_EIO, AM_ETOOBIG, AM_ENOMEM otherwise.
 */
int geo_roads_load(const char *path, struct geo_roads **out, char *why, size_t whysz);

/*
 * geo_roads_load() for a graph file, geo_roads_import() with default
 * options for a name ending in .osm or .pbf.
 */
int geo_roads_open(const char *path, struct geo_roads **out, char *why, size_t whysz);

/* Frees a graph; NULL is allowed. */
void geo_roads_free(struct geo_roads *g);

/* What a graph holds. */
struct geo_roads_info {
    uint32_t nodes, edges;                     /* graph nodes, directed edges */
    uint32_t dropped_nodes;                    /* outside the largest connected part */
    double min_lat, min_lon, max_lat, max_lon; /* bounding box, degrees */
    double length_km;                          /* of all edges, a two-way street counted twice */
    uint32_t edges_by_class[GEO_RC_COUNT];
};
void geo_roads_info(const struct geo_roads *g, struct geo_roads_info *info);

/* Node `i`'s position; false if out of range. */
bool geo_roads_node(const struct geo_roads *g, uint32_t i, double *lat, double *lon);

/* Edge `e`: its ends, its twin (GEO_NONE if one-way), time, length, class; false if out of range.
 */
struct geo_road_edge {
    uint32_t tail, head, twin, time_ms;
    float length_m;
    uint8_t rclass;
};
bool geo_roads_edge(const struct geo_roads *g, uint32_t e, struct geo_road_edge *out);

/*
 * A point on the road: the nearest point of the nearest edge. `edge` runs
 * tail -> head and the point lies at `frac` (0 at the tail, 1 at the head)
 * of it; `twin` is the edge head -> tail of a two-way street or GEO_NONE.
 */
struct geo_snap {
    uint32_t edge, twin;
    double frac;
    double dist_m;   /* from the given point to the road */
    double lat, lon; /* the point on the road */
};

/*
 * Snaps (lat, lon) to the nearest edge within `max_m` metres, by a uniform
 * grid over the edges. Returns 0, AM_EINVAL (coordinates not finite or out
 * of range, or max_m not positive) or AM_ENOTFOUND (no road that close).
 * Cost: a few grid cells, about a microsecond in a city.
 */
int geo_roads_snap(const struct geo_roads *g, double lat, double lon, double max_m,
                   struct geo_snap *out);

/*
 * A fingerprint of the graph (its nodes, edges and times), so that a snap
 * stored with a position can be trusted only while the same graph is loaded.
 */
uint64_t geo_roads_id(const struct geo_roads *g);

/*
 * Rebuilds a snap stored earlier (edge, frac, dist_m of a geo_snap made on
 * the graph whose geo_roads_id() it was): twin and point on the road.
 * Returns 0 or AM_EINVAL if edge or frac is out of range.
 */
int geo_roads_snap_at(const struct geo_roads *g, uint32_t edge, double frac, double dist_m,
                      struct geo_snap *out);

/*
 * Speed factors for emergency driving: the speed of a class is multiplied
 * by factor[class] (1 = as imported; 1.3 = 30 % faster). NULL means all 1.
 * Each factor must be within [0.5, 3].
 */
struct geo_speed_factors {
    double factor[GEO_RC_COUNT];
};

/*
 * The factors of emergency driving (lights and siren), documented in
 * docs/routing.md: most gained on wide urban roads, none in living streets.
 */
extern const struct geo_speed_factors geo_speed_emergency;

/* The travel of one source to the destination. */
struct geo_eta {
    double eta_s;    /* seconds; INFINITY if not reached */
    double length_m; /* road length of that route */
};

/*
 * Travel times from many sources to one destination: one search from `dest`
 * on the reversed graph (Dijkstra), which stops once `want` of the sources
 * whose counts[i] is true (counts may be NULL: all count) have their final
 * time, or when the graph is exhausted. out[i] gets source i's time and
 * length, or INFINITY for a source not reached before the stop (a source
 * that is not needed, or cannot reach dest). A route leaves a source along
 * its edge (or its twin) and reaches dest along dest's edge (or its twin);
 * if both lie on the same edge, in order, it drives straight there. Times
 * are 32-bit milliseconds: a route of 2^32 ms (49.7 days) or more is none.
 * Returns 0, AM_EINVAL (bad factors), AM_ENOMEM.
 */
int geo_roads_eta_many(const struct geo_roads *g, const struct geo_snap *dest,
                       const struct geo_snap *src, size_t nsrc, size_t want, const bool *counts,
                       const struct geo_speed_factors *speed, struct geo_eta *out);

/* One entry of a ranking: which source, and its travel. */
struct geo_rank {
    size_t src;
    struct geo_eta eta;
};

/*
 * Ranks sources by their travel time to `dest`: the sources with stale[i]
 * false first, by time, then the stale ones (stale may be NULL: none are),
 * by time; ties by index. Sources that cannot reach dest are left out.
 * Runs geo_roads_eta_many() with want = k fresh sources, so the search stops
 * as soon as the first k fresh ones are known. out (room for k entries)
 * gets at most k entries, *nout how many. Returns as geo_roads_eta_many().
 */
int geo_roads_rank(const struct geo_roads *g, const struct geo_snap *dest,
                   const struct geo_snap *src, size_t nsrc, size_t k, const bool *stale,
                   const struct geo_speed_factors *speed, struct geo_rank *out, size_t *nout);

/* A route: its time, length and the points it follows (lat, lon pairs). */
struct geo_route {
    double eta_s, length_m;
    size_t npoints;
    double
        *points; /* 2 * npoints doubles: lat0, lon0, lat1, lon1...; free with geo_route_release() */
};

/*
 * The fastest route from `from` to `to`, with its geometry: the snapped start,
 * the nodes on the way, the snapped end. Returns 0, AM_ENOTFOUND (to cannot
 * be reached; cannot happen in an imported graph), AM_EINVAL, AM_ENOMEM.
 * The caller releases *r with geo_route_release().
 */
int geo_roads_route(const struct geo_roads *g, const struct geo_snap *from,
                    const struct geo_snap *to, const struct geo_speed_factors *speed,
                    struct geo_route *r);
void geo_route_release(struct geo_route *r);

/* ---------------------------------------------------------------- streets */

/*
 * The street index of a road graph: the names of its drivable ways (name,
 * name:ar, name:fr, and the alt_name, old_name and short_name families),
 * grouped into streets, so that a dispatcher finds a street by typing part
 * of its name in Arabic or French (docs/routing.md, "Street search"). Made by
 * the import with the graph and kept in the graph file; immutable, so any
 * number of threads may search it at once. Owned by its graph.
 */
struct geo_streets;

#define GEO_STREETS_QUERY_MAX 256     /* bytes of a query */
#define GEO_STREETS_NAME_MAX  511     /* bytes of one stored name; longer names are not kept */
#define GEO_STREETS_MAX_NAMES 16      /* names kept per street */
#define GEO_STREETS_MAX       4000000 /* streets in one index */

/* How a street matched a query, best first. */
enum geo_street_match {
    GEO_MATCH_EXACT,     /* the whole normalised name */
    GEO_MATCH_PREFIX,    /* every word of the query starts a word of the name */
    GEO_MATCH_SUBSTRING, /* every word of the query is inside a word of the name */
};

/* A street. Strings are owned by the index; "" when the data has none. */
struct geo_street {
    uint32_t id;      /* its index in the street index */
    int match;        /* enum geo_street_match, for a search's answers */
    const char *name; /* OSM name, often bilingual "Boulevard X شارع X" */
    const char *name_ar, *name_fr;
    double lat, lon; /* a point on the street, on the road graph when it could be snapped */
    double south, west, north, east; /* bounding box of its ways */
};

/*
 * The street index of a graph, or NULL if it has none: a graph made by
 * geo_roads_from_edges(), or read from a file written before street names
 * were kept (format 1).
 */
const struct geo_streets *geo_roads_streets(const struct geo_roads *g);

/* The number of streets. */
size_t geo_streets_count(const struct geo_streets *s);

/* Street `i`; false if out of range. */
bool geo_streets_get(const struct geo_streets *s, size_t i, struct geo_street *out);

/*
 * The streets whose names match `query` (NUL-terminated, any bytes), best
 * first: an exact match of the normalised name (geo_streets_normalize()),
 * then names where every query word starts a word, then names where every
 * query word is inside a word; among equals the shorter name first. A street
 * appears once, with its best match. Writes at most `max` streets to `out`
 * and returns how many (0 for a query without a letter or digit), or
 * AM_EINVAL (NULL argument, or a query longer than GEO_STREETS_QUERY_MAX).
 * Cost: a binary search in the index's sorted words, and a scan of its
 * distinct words when the first two kinds do not fill `max`.
 */
int geo_streets_search(const struct geo_streets *s, const char *query, size_t max,
                       struct geo_street *out);

/*
 * The normalised form of `len` bytes of text at `in`, which searches compare:
 * words of letters and digits separated by one space; Latin folded to lower
 * case without accents (é -> e, ç -> c, œ -> oe, ß -> ss) and doubled letters
 * made single (Mohammed -> mohamed); Arabic without harakat and tatweel, with
 * أ إ آ ٱ -> ا, ى ئ -> ي, ة -> ه, ؤ -> و, Persian letters and ݣ ڭ گ -> ك, and
 * Arabic-Indic digits -> 0-9. With `core`, words naming the kind of street
 * (boulevard, bd, avenue, av, rue, route, place, zenqa, derb, شارع, زنقة,
 * درب, ساحة...) and French and Arabic-in-Latin articles (de, du, la, l, el,
 * al...) are left out, unless nothing else remains. Invalid UTF-8 bytes
 * separate words. Writes at most outsz - 1 bytes and a NUL (outsz >= len + 1
 * always suffices; a form cut short ends at a whole word) and returns the
 * length written.
 */
size_t geo_streets_normalize(const char *in, size_t len, bool core, char *out, size_t outsz);

/* ------------------------------------------------ contraction hierarchies */

/*
 * A contraction hierarchy over a road graph, for fast point-to-point queries
 * on national graphs (docs/routing.md). Built once from the graph at the
 * imported speeds (speed factors are not supported: use geo_roads_route());
 * immutable and thread-safe like the graph.
 */
struct geo_ch;

/* What a build did. */
struct geo_ch_stats {
    double build_s;      /* wall-clock seconds */
    uint64_t shortcuts;  /* edges added */
    size_t memory_bytes; /* of the finished hierarchy */
};

/*
 * Builds the hierarchy, on up to one thread per processor (at most 8); it
 * keeps no pointer to the graph. Returns 0, AM_EINVAL (g or out NULL) or
 * AM_ENOMEM; *stats may be NULL. Each concurrent query later takes a
 * workspace of 32 bytes per node (kept for reuse, not in memory_bytes).
 */
int geo_ch_build(const struct geo_roads *g, struct geo_ch **out, struct geo_ch_stats *stats);
void geo_ch_free(struct geo_ch *ch);

/*
 * The fastest time in milliseconds from node s to node t (UINT32_MAX if t
 * cannot be reached, or only in 2^32 ms or more), as a plain Dijkstra on
 * the graph would give it. AM_EINVAL also when time_ms is NULL, or path
 * without npath.
 * If `path` is not NULL, *path gets a new array of the nodes from s to t
 * (shortcuts unpacked) and *npath its length; the caller frees it with free().
 * Returns 0, AM_EINVAL (node out of range), AM_ENOMEM.
 */
int geo_ch_query(const struct geo_ch *ch, uint32_t s, uint32_t t, uint32_t *time_ms,
                 uint32_t **path, size_t *npath);

/* The same answer by a plain Dijkstra on the graph, without the hierarchy: the reference. */
int geo_roads_node_time(const struct geo_roads *g, uint32_t s, uint32_t t, uint32_t *time_ms);

#endif
