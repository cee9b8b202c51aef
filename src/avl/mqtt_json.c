/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mqtt_json.c - the JSON telemetry our own vehicle kits publish on
 * amane/v1/units/<unit>/telemetry: a position plus the state of the car a
 * dispatcher cares about (ignition, siren, lightbar, doors, fuel) and the
 * events that must reach the command room at once (crash, panic...).
 *
 * Unlike the phone apps' formats this one is ours, so it is read strictly:
 * every member has one type, null is not a value, and a member we do not
 * know is refused rather than skipped, so that a firmware bug or a renamed
 * field shows up as refused fixes instead of silently missing data.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

#define MQTT_MAX_PAYLOAD (16 * 1024)

static const char *const telemetry_keys[] = {"time",       "lat",      "lon",      "speed_kmh",
                                             "heading",    "altitude", "accuracy", "ignition",
                                             "siren",      "lightbar", "fuel_pct", "odometer_km",
                                             "doors_open", "event",    NULL};

static const char *const telemetry_events[] = {"crash", "harsh_braking", "harsh_acceleration",
                                               "panic", NULL};

/* Members copied into attrs as they are, once their type is checked. */
static const char *const telemetry_flags[] = {"ignition", "siren", "lightbar", "doors_open", NULL};

/*
 * Refuses a member we do not know, naming it in the reason. Not
 * am_json_only_keys(): the name comes from the vehicle, and the reason must
 * stay one line of UTF-8 (no control characters, not cut inside a character).
 */
static int only_known_members(const json_t *root, char *why, size_t whysz)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v)
    {
        bool known = false;
        for (const char *const *a = telemetry_keys; *a && !known; a++)
            known = strcmp(*a, k) == 0;
        if (known)
            continue;
        char name[65];
        size_t n = am_strlcpy(name, k, sizeof(name));
        n = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                name[i] = '?';
        while (n > 0 && !am_utf8_valid(name, n))
            name[--n] = '\0';
        am_why(why, whysz, 0, "unknown field '%s'", name);
        return AM_EINVAL;
    }
    return 0;
}

/* root[name]: absent leaves *out (and *present false); a number is stored; else refused. */
static int get_number(const json_t *root, const char *name, double *out, bool *present, char *why,
                      size_t whysz)
{
    const json_t *v = json_object_get(root, name);
    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!json_is_number(v)) {
        am_why(why, whysz, 0, "'%s' must be a number", name);
        return AM_EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int set_attr(struct avl_fix *f, const char *key, json_t *v)
{
    if (!v)
        return AM_ENOMEM;
    if (!f->attrs && !(f->attrs = json_object())) {
        json_decref(v);
        return AM_ENOMEM;
    }
    return json_object_set_new(f->attrs, key, v) ? AM_ENOMEM : 0;
}

/* The vehicle state members: flags, fuel, odometer and the event, into attrs. */
static int vehicle_attrs(const json_t *root, struct avl_fix *f, char *why, size_t whysz)
{
    int rc;
    for (const char *const *k = telemetry_flags; *k; k++) {
        const json_t *v = json_object_get(root, *k);
        if (!v)
            continue;
        if (!json_is_boolean(v)) {
            am_why(why, whysz, 0, "'%s' must be true or false", *k);
            return AM_EINVAL;
        }
        if ((rc = set_attr(f, *k, json_boolean(json_is_true(v)))))
            return rc;
    }
    double fuel = NAN, odometer = NAN;
    bool has_fuel, has_odometer;
    if ((rc = get_number(root, "fuel_pct", &fuel, &has_fuel, why, whysz)) ||
        (rc = get_number(root, "odometer_km", &odometer, &has_odometer, why, whysz)))
        return rc;
    if (has_fuel) {
        if (!(fuel >= 0 && fuel <= 100)) {
            am_why(why, whysz, 0, "'fuel_pct' must be between 0 and 100");
            return AM_EINVAL;
        }
        if ((rc = set_attr(f, "fuel_pct", json_real(fuel))))
            return rc;
    }
    if (has_odometer) {
        if (!(odometer >= 0)) {
            am_why(why, whysz, 0, "'odometer_km' must not be negative");
            return AM_EINVAL;
        }
        if ((rc = set_attr(f, "odometer_km", json_real(odometer))))
            return rc;
    }
    const json_t *ev = json_object_get(root, "event");
    if (ev) {
        const char *name = json_is_string(ev) ? json_string_value(ev) : NULL;
        const char *const *e = telemetry_events;
        while (name && *e && strcmp(*e, name) != 0)
            e++;
        if (!name || !*e) {
            am_why(why, whysz, 0,
                   "'event' must be one of crash, harsh_braking, harsh_acceleration, panic");
            return AM_EINVAL;
        }
        if ((rc = set_attr(f, "event", json_string(*e))))
            return rc;
    }
    return 0;
}

int avl_mqtt_decode(const char *device, const char *payload, size_t len, int64_t now_us,
                    struct avl_fix *out, char *why, size_t whysz)
{
    json_t *root = NULL;
    char reason[256] = "";
    int rc;
    avl_fix_init(out);
    am_why(why, whysz, 0, "%s", "");
    if (!payload)
        len = 0;
    rc = am_json_parse_object(payload ? payload : "", len, MQTT_MAX_PAYLOAD, &root, reason,
                              sizeof(reason));
    if (rc) {
        am_why(why, whysz, 0, "%s", reason);
        goto out;
    }
    if ((rc = only_known_members(root, why, whysz)))
        goto out;
    rc = AM_EINVAL;
    if (!device || !*device) {
        am_why(why, whysz, 0, "no device id");
        goto out;
    }
    if (strlen(device) >= sizeof(out->device)) {
        am_why(why, whysz, 0, "the device id is longer than %d bytes", AVL_DEVICE_SZ - 1);
        goto out;
    }
    am_strlcpy(out->device, device, sizeof(out->device));

    const json_t *t = json_object_get(root, "time");
    if (!t) {
        out->time_us = now_us;
    } else if (!json_is_string(t) || am_time_parse(json_string_value(t), &out->time_us)) {
        am_why(why, whysz, 0, "'time' must be an RFC 3339 time");
        goto out;
    }
    bool has_lat, has_lon, has_speed;
    double speed_kmh = NAN;
    if ((rc = get_number(root, "lat", &out->lat, &has_lat, why, whysz)) ||
        (rc = get_number(root, "lon", &out->lon, &has_lon, why, whysz)) ||
        (rc = get_number(root, "speed_kmh", &speed_kmh, &has_speed, why, whysz)) ||
        (rc = get_number(root, "heading", &out->heading_deg, NULL, why, whysz)) ||
        (rc = get_number(root, "altitude", &out->altitude_m, NULL, why, whysz)) ||
        (rc = get_number(root, "accuracy", &out->accuracy_m, NULL, why, whysz)))
        goto out;
    rc = AM_EINVAL;
    if (!has_lat || !has_lon) {
        am_why(why, whysz, 0, "no coordinates");
        goto out;
    }
    /* Our firmware never sends a negative speed: one is a bug to see, not "unknown". */
    if (has_speed && !(speed_kmh >= 0)) {
        am_why(why, whysz, 0, "'speed_kmh' must not be negative");
        goto out;
    }
    out->speed_mps = speed_kmh / 3.6;
    if ((rc = vehicle_attrs(root, out, why, whysz)))
        goto out;
    rc = avl_fix_check(out, now_us, why, whysz);
out:
    json_decref(root);
    if (rc)
        avl_fix_release(out);
    return rc;
}
