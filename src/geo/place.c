/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * place.c - places a point in Morocco: its region, its prefecture or
 * province and its police sector, from three sets of areas, with a
 * tolerance for points just off the coast; and the great-circle distance
 * between two points. Built only on the public queries of boundaries.c.
 */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "geo/geo.h"

#define DEG_TO_RAD (3.14159265358979323846 / 180.0)

static void copy_area(const struct geo_areas *set, int i, char *code, char *fr, char *ar)
{
    am_strlcpy(code, geo_areas_code(set, (size_t)i), GEO_CODE_SZ);
    am_strlcpy(fr, geo_areas_name_fr(set, (size_t)i), GEO_NAME_SZ);
    am_strlcpy(ar, geo_areas_name_ar(set, (size_t)i), GEO_NAME_SZ);
}

int geo_place_lookup(const struct geo_areas *regions, const struct geo_areas *provinces,
                     const struct geo_areas *sectors, double lat, double lon,
                     struct geo_place *place)
{
    if (!place)
        return AM_EINVAL;
    memset(place, 0, sizeof(*place));
    if (!regions || !provinces)
        return AM_EINVAL;
    if (!isfinite(lat) || !isfinite(lon) || lat < -90.0 || lat > 90.0 || lon < -180.0 ||
        lon > 180.0)
        return AM_EINVAL;

    double edge_m = 0;
    int region = geo_areas_find(regions, lat, lon);
    int province = geo_areas_find(provinces, lat, lon);
    if (province >= 0) {
        /*
         * Region and province files drawn from different sources may
         * disagree near a shared border. The province is the finer
         * drawing: its own region wins, so that the answer holds together.
         */
        const char *parent = geo_areas_parent(provinces, (size_t)province);
        int own = parent[0] ? geo_areas_index(regions, parent) : -1;
        if (own >= 0)
            region = own;
    }
    if (region < 0) {
        region = geo_areas_nearest(regions, lat, lon, GEO_EDGE_TOLERANCE_M, NULL, &edge_m);
        if (region < 0)
            return AM_ENOTFOUND;
    }
    if (province < 0) {
        const char *rcode = geo_areas_code(regions, (size_t)region);
        province = geo_areas_nearest(provinces, lat, lon, GEO_EDGE_TOLERANCE_M, rcode, NULL);
        if (province < 0 && geo_areas_parent(provinces, 0)[0] == '\0') /* no parents given */
            province = geo_areas_nearest(provinces, lat, lon, GEO_EDGE_TOLERANCE_M, NULL, NULL);
    }

    copy_area(regions, region, place->region_code, place->region_fr, place->region_ar);
    if (province >= 0)
        copy_area(provinces, province, place->prefecture_code, place->prefecture_fr,
                  place->prefecture_ar);
    int sector = sectors ? geo_areas_find(sectors, lat, lon) : -1;
    if (sector >= 0)
        copy_area(sectors, sector, place->sector_code, place->sector_fr, place->sector_ar);
    place->edge_dist_m = edge_m;
    return 0;
}

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * DEG_TO_RAD, p2 = lat2 * DEG_TO_RAD;
    double sdp = sin((p2 - p1) / 2), sdl = sin((lon2 - lon1) * DEG_TO_RAD / 2);
    double h = sdp * sdp + cos(p1) * cos(p2) * sdl * sdl;
    if (isnan(h))
        return NAN;
    h = fmin(fmax(h, 0.0), 1.0);
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(h));
}
