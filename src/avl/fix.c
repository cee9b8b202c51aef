/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fix.c - a position report as every decoder returns it, and the checks
 * every fix passes whatever protocol brought it: a device id, coordinates
 * on the Earth and not the (0, 0) of a receiver without a fix, a time
 * neither far in the future nor older than a week.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

void avl_fix_init(struct avl_fix *f)
{
    memset(f, 0, sizeof(*f));
    f->lat = f->lon = NAN;
    f->speed_mps = f->heading_deg = f->altitude_m = f->accuracy_m = NAN;
    f->satellites = -1;
}

void avl_fix_release(struct avl_fix *f)
{
    if (!f)
        return;
    json_decref(f->attrs);
    f->attrs = NULL;
}

bool avl_device_id_ok(const char *d)
{
    size_t n = strnlen(d, AVL_DEVICE_SZ);
    if (n == 0 || n >= AVL_DEVICE_SZ)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

int avl_fix_check(const struct avl_fix *f, int64_t now_us, char *why, size_t whysz)
{
    const char *bad = NULL;
    if (!avl_device_id_ok(f->device))
        bad = "the device id must be 1 to 63 of A-Z a-z 0-9 . _ : -";
    else if (!isfinite(f->lat) || !isfinite(f->lon) || f->lat < -90 || f->lat > 90 ||
             f->lon < -180 || f->lon > 180)
        bad = "coordinates out of range";
    else if (f->lat == 0 && f->lon == 0)
        bad = "coordinates (0, 0): the device has no fix";
    else if (f->time_us > now_us + AVL_FUTURE_S * 1000000LL)
        bad = "the fix time is in the future";
    else if (f->time_us < now_us - AVL_PAST_S * 1000000LL)
        bad = "the fix time is more than 7 days old";
    else if (!isnan(f->speed_mps) && !(f->speed_mps >= 0 && f->speed_mps <= 200))
        bad = "speed out of range (0 to 200 m/s)";
    else if (!isnan(f->heading_deg) && !(f->heading_deg >= 0 && f->heading_deg <= 360))
        bad = "heading out of range (0 to 360)";
    else if (!isnan(f->altitude_m) && !(f->altitude_m >= -1000 && f->altitude_m <= 20000))
        bad = "altitude out of range";
    else if (!isnan(f->accuracy_m) && !(f->accuracy_m >= 0 && f->accuracy_m <= 1e6))
        bad = "accuracy out of range";
    if (!bad)
        return 0;
    if (why && whysz)
        snprintf(why, whysz, "%s", bad);
    return AM_EINVAL;
}
