/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_mqtt_json.c - fuzzes avl_mqtt_decode(), the vehicle telemetry
 * decoder, with arbitrary bytes as the MQTT payload of device "VH-0042";
 * the server's clock is fixed at 2023-11-14T22:15:00Z (1700000100 s).
 *
 * It asserts: (1) the code is 0, AM_EINVAL or AM_ETOOBIG, AM_ETOOBIG
 * exactly past 16 KiB; (2) a refusal leaves no attributes and gives a
 * one-line UTF-8 reason; (3) the decoder agrees with a reference written
 * here from the documented format (UTF-8 without NUL, read by jansson with
 * duplicate keys refused, a top-level object of known members only, each of its one type and range,
 * then avl_fix_check): both accept or both refuse, and an accepted fix
 * holds exactly the payload's values (speed_kmh / 3.6, absent members
 * unknown, a missing time the server's) and exactly the attributes sent.
 * The reference does not reimplement the depth limit: documents nested
 * deeper than AM_JSON_MAX_DEPTH are only required to be refused. Any
 * failed check is abort().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_US    (1700000100LL * 1000000)
#define MAX_INPUT (16 * 1024)
#define DEVICE    "VH-0042"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_mqtt_json: %s\n", what);
    abort();
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const members[] = {"time",       "lat",      "lon",      "speed_kmh",
                                      "heading",    "altitude", "accuracy", "ignition",
                                      "siren",      "lightbar", "fuel_pct", "odometer_km",
                                      "doors_open", "event",    NULL};
static const char *const flags[] = {"ignition", "siren", "lightbar", "doors_open", NULL};
static const char *const numbers[] = {"lat",      "lon",      "speed_kmh",   "heading", "altitude",
                                      "accuracy", "fuel_pct", "odometer_km", NULL};
static const char *const events[] = {"crash", "harsh_braking", "harsh_acceleration", "panic", NULL};

static double num_or_nan(const json_t *root, const char *k)
{
    const json_t *v = json_object_get(root, k);
    return v ? json_number_value(v) : NAN;
}

/* The format as docs/avl.md states it: the fix the payload makes, or false if refused. */
static bool reference(const json_t *root, struct avl_fix *ref)
{
    avl_fix_init(ref);
    if (!json_is_object(root))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v)
    {
        if (!in_list(k, members))
            return false;
        if (in_list(k, flags) && !json_is_boolean(v))
            return false;
        if (in_list(k, numbers) && !json_is_number(v))
            return false;
        if (strcmp(k, "event") == 0 &&
            !(json_is_string(v) && in_list(json_string_value(v), events)))
            return false;
        if (strcmp(k, "time") == 0 && !json_is_string(v))
            return false;
    }
    if (!json_object_get(root, "lat") || !json_object_get(root, "lon"))
        return false;
    double speed = num_or_nan(root, "speed_kmh"), fuel = num_or_nan(root, "fuel_pct"),
           odo = num_or_nan(root, "odometer_km");
    if (speed < 0 || fuel < 0 || fuel > 100 || odo < 0)
        return false;
    am_strlcpy(ref->device, DEVICE, sizeof(ref->device));
    ref->time_us = NOW_US;
    const json_t *t = json_object_get(root, "time");
    if (t && am_time_parse(json_string_value(t), &ref->time_us))
        return false;
    ref->lat = num_or_nan(root, "lat");
    ref->lon = num_or_nan(root, "lon");
    ref->speed_mps = speed / 3.6;
    ref->heading_deg = num_or_nan(root, "heading");
    ref->altitude_m = num_or_nan(root, "altitude");
    ref->accuracy_m = num_or_nan(root, "accuracy");
    return avl_fix_check(ref, NOW_US, NULL, 0) == 0;
}

/* The attributes hold exactly the vehicle members of the payload, with their values. */
static void check_attrs(const json_t *root, const json_t *attrs)
{
    size_t want = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v)
    {
        if (in_list(k, flags) || strcmp(k, "fuel_pct") == 0 || strcmp(k, "odometer_km") == 0 ||
            strcmp(k, "event") == 0) {
            want++;
            const json_t *got = json_object_get(attrs, k);
            if (!got)
                fail("a vehicle member is missing from the attributes");
            if (json_is_number(v)
                    ? !json_is_number(got) || json_number_value(got) != json_number_value(v)
                    : !json_equal(got, v))
                fail("an attribute differs from the payload");
        }
    }
    if (json_object_size(attrs) != want || (want == 0) != (attrs == NULL))
        fail("attributes that the payload did not send");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct avl_fix f, ref;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = avl_mqtt_decode(DEVICE, (const char *)data, size, NOW_US, &f, why, sizeof(why));
    if (rc != 0 && rc != AM_EINVAL && rc != AM_ETOOBIG)
        fail("unexpected error code");
    if ((rc == AM_ETOOBIG) != (size > MAX_INPUT))
        fail("AM_ETOOBIG must mean more than 16 KiB");
    if (rc) {
        if (f.attrs)
            fail("a refusal must leave no attributes");
        if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
            fail("a refusal must give a NUL-terminated reason");
        for (const char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                fail("a reason must be one line");
        if (!am_utf8_valid(why, strlen(why)))
            fail("a reason must be UTF-8");
    }
    if (size > MAX_INPUT)
        return 0;

    /* jansson alone takes a NUL after a number ("-60\0}"): the core's UTF-8 rule refuses it. */
    json_t *root = am_utf8_valid((const char *)data, size)
                       ? json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)
                       : NULL;
    bool want = reference(root, &ref);
    if (rc == 0 && !want) {
        fprintf(stderr, "fuzz_mqtt_json: accepted what the reference refuses\n");
        abort();
    }
    if (rc != 0 && want) {
        /* Nesting is refused by the core's depth limit, which the reference leaves out. */
        char *deep = strstr(why, "nested deeper");
        if (!deep) {
            fprintf(stderr, "fuzz_mqtt_json: refused what the reference accepts: %s\n", why);
            abort();
        }
    }
    if (rc == 0) {
        if (strcmp(f.device, ref.device) != 0 || f.time_us != ref.time_us ||
            !same_double(f.lat, ref.lat) || !same_double(f.lon, ref.lon) ||
            !same_double(f.speed_mps, ref.speed_mps) ||
            !same_double(f.heading_deg, ref.heading_deg) ||
            !same_double(f.altitude_m, ref.altitude_m) ||
            !same_double(f.accuracy_m, ref.accuracy_m) || f.satellites != -1)
            fail("the fix differs from the payload");
        check_attrs(root, f.attrs);
    }
    avl_fix_release(&ref);
    avl_fix_release(&f);
    json_decref(root);
    return 0;
}
