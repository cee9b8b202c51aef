/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * osmand.c - the OsmAnd protocol as the Traccar Client phone app speaks it:
 * one HTTP request per position, its parameters in the query string or in a
 * form body (id=...&lat=...&lon=...&timestamp=...), or, from the newer app,
 * a JSON body with the position nested under "location". Patrol officers'
 * phones are the cheapest AVL a police force has, so this decoder is on the
 * hot path of every unit without a vehicle tracker.
 *
 * Rules, as Traccar's OsmAndProtocolDecoder applies them where it has one:
 *  - the query and a form body are decoded as application/x-www-form-
 *    urlencoded (WHATWG URL, Netty, Go, PHP): '+' is a space in both, so a
 *    literal '+' (an ISO 8601 offset) must be sent as %2B; %XY must be two
 *    hex digits, anything else is refused;
 *  - a parameter given twice takes its last value (Traccar reads every value
 *    in order, each overwriting the previous); the query is read before a
 *    form body, so the body wins over the query (Traccar reads the body
 *    only when the query is empty: a client splitting its parameters between
 *    the two works here and not there);
 *  - a timestamp of digits only is epoch seconds below 10^11 (year 5138)
 *    and epoch milliseconds from there;
 *  - a JSON body (Content-Type application/json) is read alone, as Traccar
 *    does: the query is then not consulted;
 *  - a negative speed or bearing is "unknown" (iOS reports -1), not an error.
 * Everything from the request is bounded: 64 KiB in all, keys of at most 32
 * bytes of [A-Za-z0-9_.-], values of at most 256 bytes of UTF-8, at most
 * AVL_MAX_ATTRS attributes (beyond that they are dropped and the number
 * dropped is kept as "dropped_attrs").
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "avl/avl.h"
#include "core/core.h"

#define OSM_MAX_INPUT (64 * 1024)
#define OSM_KEY_MAX   32
#define OSM_VALUE_MAX 256
#define KNOT_MPS      0.514444
/* Digits-only timestamps below this are seconds, from it milliseconds (1973 in ms). */
#define EPOCH_MS_FROM 100000000000LL
/* Milliseconds past this (year 33658) cannot be a position report. */
#define EPOCH_MS_MAX 1000000000000000LL

/* ------------------------------------------------------------ attributes */

/* What the decoding of one request carries along. */
struct osm_ctx {
    struct avl_fix *fix;
    bool have_time;
    size_t dropped;                 /* attributes refused for lack of room */
    char last_new[OSM_KEY_MAX + 1]; /* the last attribute added, given up for the count */
    char *why;
    size_t whysz;
};

/* Sets attrs[key] = v (stolen), within AVL_MAX_ATTRS; a key already there is replaced. */
static int attr_put(struct osm_ctx *c, const char *key, json_t *v)
{
    if (!v)
        return AM_ENOMEM;
    if (!c->fix->attrs && !(c->fix->attrs = json_object())) {
        json_decref(v);
        return AM_ENOMEM;
    }
    bool fresh = json_object_get(c->fix->attrs, key) == NULL;
    if (fresh && json_object_size(c->fix->attrs) >= AVL_MAX_ATTRS) {
        json_decref(v);
        c->dropped++;
        return 0;
    }
    if (json_object_set_new(c->fix->attrs, key, v))
        return AM_ENOMEM;
    if (fresh)
        am_strlcpy(c->last_new, key, sizeof(c->last_new));
    return 0;
}

/* Records how many attributes were dropped, in place of the last one added. */
static int attrs_finish(struct osm_ctx *c)
{
    if (!c->dropped)
        return 0;
    json_t *a = c->fix->attrs;
    if (json_object_size(a) >= AVL_MAX_ATTRS && !json_object_get(a, "dropped_attrs") &&
        json_object_del(a, c->last_new) == 0)
        c->dropped++;
    return json_object_set_new(a, "dropped_attrs", json_integer((json_int_t)c->dropped)) == 0
               ? 0
               : AM_ENOMEM;
}

/* ------------------------------------------------------------ values */

/*
 * The JSON number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, on
 * the whole of `s`; *integral tells whether it has neither fraction nor
 * exponent. strtod() alone would also take "nan", "inf", hex and blanks.
 */
static bool number_syntax(const char *s, bool *integral)
{
    const char *p = s;
    *integral = true;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return false;
    if (*p == '.') {
        p++;
        *integral = false;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        *integral = false;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* A finite number written as JSON writes one; AM_EINVAL otherwise. */
static int parse_number(const char *s, double *out)
{
    bool integral;
    if (!number_syntax(s, &integral))
        return AM_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return AM_EINVAL;
    *out = v;
    return 0;
}

static int number_param(struct osm_ctx *c, const char *key, const char *val, double *out)
{
    if (parse_number(val, out)) {
        am_why(c->why, c->whysz, 0, "'%s' is not a number", key);
        return AM_EINVAL;
    }
    return 0;
}

/* The value of an attribute: a JSON number if it reads as one, a boolean, else the string. */
static json_t *attr_value(const char *val)
{
    bool integral;
    double d;
    if (number_syntax(val, &integral)) {
        int64_t i;
        if (integral && am_parse_i64(val, INT64_MIN, INT64_MAX, &i) == 0)
            return json_integer((json_int_t)i);
        if (parse_number(val, &d) == 0)
            return json_real(d);
    }
    if (strcmp(val, "true") == 0)
        return json_true();
    if (strcmp(val, "false") == 0)
        return json_false();
    return json_string(val);
}

/* ------------------------------------------------------------ time */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/*
 * A timestamp as OsmAnd clients write it: epoch seconds or milliseconds,
 * RFC 3339 ('T' and Z or an offset), or "yyyy-MM-dd HH:mm:ss[.f]" in UTC,
 * which becomes RFC 3339 by putting back the 'T' and adding a 'Z'.
 */
static int parse_time(const char *s, int64_t *us)
{
    if (all_digits(s)) {
        int64_t v;
        if (strlen(s) > 16 || am_parse_i64(s, 0, EPOCH_MS_MAX, &v))
            return AM_EINVAL;
        *us = v < EPOCH_MS_FROM ? v * 1000000 : v * 1000;
        return 0;
    }
    size_t n = strlen(s);
    if (n < 19 || n > 40)
        return AM_EINVAL;
    if (s[10] == 'T' || s[10] == 't')
        return am_time_parse(s, us);
    if (s[10] != ' ')
        return AM_EINVAL;
    char iso[48];
    memcpy(iso, s, n + 1);
    iso[10] = 'T';
    const char *p = iso + 19;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == '\0') {
        if (n + 1 >= sizeof(iso))
            return AM_EINVAL;
        iso[n] = 'Z';
        iso[n + 1] = '\0';
    }
    return am_time_parse(iso, us);
}

static int time_param(struct osm_ctx *c, const char *val)
{
    if (parse_time(val, &c->fix->time_us) == 0) {
        c->have_time = true;
        return 0;
    }
    /* A '+' sent unencoded in a URL arrives as a space: say so, it is the usual mistake. */
    const char *sp = strlen(val) > 19 ? strchr(val + 19, ' ') : NULL;
    am_why(c->why, c->whysz, 0,
           "'timestamp' is not a time (epoch seconds or milliseconds, RFC 3339, or yyyy-MM-dd "
           "HH:mm:ss in UTC)%s",
           sp ? "; a '+' in a URL or form must be sent as %2B" : "");
    return AM_EINVAL;
}

/* ------------------------------------------------------------ parameters */

static int device_param(struct osm_ctx *c, const char *val)
{
    if (strlen(val) >= sizeof(c->fix->device)) {
        am_why(c->why, c->whysz, 0, "the device id is longer than %d bytes", AVL_DEVICE_SZ - 1);
        return AM_EINVAL;
    }
    am_strlcpy(c->fix->device, val, sizeof(c->fix->device));
    return 0;
}

/* "lat,lon", as OsmAnd's location parameter writes it. */
static int location_param(struct osm_ctx *c, const char *val)
{
    char lat[OSM_VALUE_MAX + 1];
    const char *comma = strchr(val, ',');
    if (!comma || strchr(comma + 1, ',') || (size_t)(comma - val) >= sizeof(lat))
        goto bad;
    memcpy(lat, val, (size_t)(comma - val));
    lat[comma - val] = '\0';
    double la, lo;
    if (parse_number(lat, &la) || parse_number(comma + 1, &lo))
        goto bad;
    c->fix->lat = la;
    c->fix->lon = lo;
    return 0;
bad:
    am_why(c->why, c->whysz, 0, "'location' must be two numbers: lat,lon");
    return AM_EINVAL;
}

/* One decoded parameter: a field of the fix, or an attribute. */
static int apply_param(struct osm_ctx *c, const char *key, const char *val)
{
    struct avl_fix *f = c->fix;
    double d = 0;
    int rc;
    if (strcmp(key, "id") == 0 || strcmp(key, "deviceid") == 0)
        return device_param(c, val);
    if (strcmp(key, "timestamp") == 0)
        return time_param(c, val);
    if (strcmp(key, "location") == 0)
        return location_param(c, val);
    if (strcmp(key, "lat") == 0)
        return number_param(c, key, val, &f->lat);
    if (strcmp(key, "lon") == 0)
        return number_param(c, key, val, &f->lon);
    if (strcmp(key, "altitude") == 0)
        return number_param(c, key, val, &f->altitude_m);
    if (strcmp(key, "accuracy") == 0)
        return number_param(c, key, val, &f->accuracy_m);
    if (strcmp(key, "speed") == 0) {
        if ((rc = number_param(c, key, val, &d)))
            return rc;
        f->speed_mps = d < 0 ? NAN : d * KNOT_MPS;
        return 0;
    }
    if (strcmp(key, "bearing") == 0 || strcmp(key, "heading") == 0) {
        if ((rc = number_param(c, key, val, &d)))
            return rc;
        f->heading_deg = d < 0 ? NAN : d;
        return 0;
    }
    if (strcmp(key, "hdop") == 0 || strcmp(key, "batt") == 0) {
        if ((rc = number_param(c, key, val, &d)))
            return rc;
        return attr_put(c, key, json_real(d));
    }
    if (strcmp(key, "charge") == 0) {
        bool on = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
        if (!on && strcmp(val, "false") != 0 && strcmp(val, "0") != 0) {
            am_why(c->why, c->whysz, 0, "'charge' must be true or false");
            return AM_EINVAL;
        }
        return attr_put(c, key, json_boolean(on));
    }
    return attr_put(c, key, attr_value(val));
}

static int hex_digit(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes s[0..n) into out (room for max bytes and a NUL), '+' as a
 * space. AM_EINVAL on a bad escape, AM_ETOOBIG past max bytes.
 */
static int form_unescape(const char *s, size_t n, char *out, size_t max, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            if (n - i < 3)
                return AM_EINVAL;
            int h = hex_digit((unsigned char)s[i + 1]), l = hex_digit((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return AM_EINVAL;
            ch = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (o >= max)
            return AM_ETOOBIG;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    *len = o;
    return 0;
}

static bool key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* One "key=value" (or "key") of the query or a form body. */
static int one_pair(struct osm_ctx *c, const char *s, size_t n)
{
    char key[OSM_KEY_MAX + 1], val[OSM_VALUE_MAX + 1];
    size_t klen, vlen;
    const char *eq = memchr(s, '=', n);
    size_t kraw = eq ? (size_t)(eq - s) : n;
    int rc = form_unescape(s, kraw, key, OSM_KEY_MAX, &klen);
    if (rc == AM_EINVAL)
        goto bad_escape;
    bool key_ok = rc == 0 && klen > 0;
    for (size_t i = 0; key_ok && i < klen; i++)
        key_ok = key_char(key[i]);
    if (!key_ok) {
        am_why(c->why, c->whysz, 0, "a parameter name must be 1 to %d of A-Z a-z 0-9 _ . -",
               OSM_KEY_MAX);
        return AM_EINVAL;
    }
    rc = eq ? form_unescape(eq + 1, n - kraw - 1, val, OSM_VALUE_MAX, &vlen)
            : (val[0] = '\0', vlen = 0, 0);
    if (rc == AM_EINVAL)
        goto bad_escape;
    if (rc == AM_ETOOBIG) {
        am_why(c->why, c->whysz, 0, "the value of '%s' is longer than %d bytes", key,
               OSM_VALUE_MAX);
        return AM_EINVAL;
    }
    if (!am_utf8_valid(val, vlen)) {
        am_why(c->why, c->whysz, 0, "the value of '%s' is not UTF-8 (or holds a NUL)", key);
        return AM_EINVAL;
    }
    return apply_param(c, key, val);
bad_escape:
    am_why(c->why, c->whysz, 0, "bad percent-encoding: '%%' must be followed by two hex digits");
    return AM_EINVAL;
}

/* All the '&'-separated pairs of s[0..n); empty ones ("a=1&&b=2", a trailing '&') are skipped. */
static int form_params(struct osm_ctx *c, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - s) : n;
        if (end > i) {
            int rc = one_pair(c, s + i, end - i);
            if (rc)
                return rc;
        }
        i = end + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ JSON body */

/* obj[name]: absent or null leaves *out; a number is stored; anything else is refused. */
static int json_opt_number(struct osm_ctx *c, const json_t *obj, const char *name, const char *path,
                           double *out)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v)) {
        am_why(c->why, c->whysz, 0, "'%s' must be a number", path);
        return AM_EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int json_opt_bool(struct osm_ctx *c, const json_t *obj, const char *name, const char *path,
                         const char *attr)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        am_why(c->why, c->whysz, 0, "'%s' must be true or false", path);
        return AM_EINVAL;
    }
    return attr_put(c, attr, json_boolean(json_is_true(v)));
}

static int json_opt_string(struct osm_ctx *c, const json_t *obj, const char *name, const char *path,
                           const char *attr)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) > OSM_VALUE_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        am_why(c->why, c->whysz, 0, "'%s' must be a string of at most %d bytes", path,
               OSM_VALUE_MAX);
        return AM_EINVAL;
    }
    return attr_put(c, attr, json_string(json_string_value(v)));
}

/* obj[name] as an object, or NULL if absent; a value of another type is refused. */
static int json_opt_object(struct osm_ctx *c, const json_t *obj, const char *name, const char *path,
                           const json_t **out)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        am_why(c->why, c->whysz, 0, "'%s' must be an object", path);
        return AM_EINVAL;
    }
    *out = v;
    return 0;
}

/*
 * The body of the newer Traccar Client (Transistor Software's background
 * geolocation): {"device_id", "location": {"timestamp", "coords": {...},
 * "battery": {...}, "activity": {...}, "is_moving", "odometer", "event",
 * "mock", "uuid", ...}}. Members it knows are type-checked; others (the
 * SDK adds some from version to version, "extras" is the app's) are left.
 */
static int decode_json(struct osm_ctx *c, const char *body, size_t blen)
{
    struct avl_fix *f = c->fix;
    char reason[256] = "";
    json_t *root = NULL;
    const json_t *loc = NULL, *coords = NULL, *battery = NULL, *activity = NULL;
    int rc = am_json_parse_object(body, blen, OSM_MAX_INPUT, &root, reason, sizeof(reason));
    if (rc) {
        am_why(c->why, c->whysz, 0, "%s", reason);
        goto out;
    }
    rc = AM_EINVAL;
    const json_t *dev = json_object_get(root, "device_id");
    if (dev && !json_is_null(dev) && !json_is_string(dev)) {
        am_why(c->why, c->whysz, 0, "'device_id' must be a string");
        goto out;
    }
    if (!dev || json_is_null(dev) || json_string_length(dev) == 0) {
        am_why(c->why, c->whysz, 0, "no device id");
        goto out;
    }
    if ((rc = device_param(c, json_string_value(dev))))
        goto out;
    if ((rc = json_opt_object(c, root, "location", "location", &loc)))
        goto out;
    if (loc && (rc = json_opt_object(c, loc, "coords", "location.coords", &coords)))
        goto out;
    if (!loc || !coords || !json_object_get(coords, "latitude") ||
        !json_object_get(coords, "longitude")) {
        am_why(c->why, c->whysz, 0, "no coordinates");
        rc = AM_EINVAL;
        goto out;
    }
    const json_t *ts = json_object_get(loc, "timestamp");
    if (ts && !json_is_null(ts)) {
        if (!json_is_string(ts) || am_time_parse(json_string_value(ts), &f->time_us)) {
            am_why(c->why, c->whysz, 0, "'location.timestamp' must be an RFC 3339 time");
            rc = AM_EINVAL;
            goto out;
        }
        c->have_time = true;
    }
    double lat = NAN, lon = NAN, speed = NAN, heading = NAN;
    if ((rc = json_opt_number(c, coords, "latitude", "location.coords.latitude", &lat)) ||
        (rc = json_opt_number(c, coords, "longitude", "location.coords.longitude", &lon)) ||
        (rc = json_opt_number(c, coords, "speed", "location.coords.speed", &speed)) ||
        (rc = json_opt_number(c, coords, "heading", "location.coords.heading", &heading)) ||
        (rc = json_opt_number(c, coords, "accuracy", "location.coords.accuracy", &f->accuracy_m)) ||
        (rc = json_opt_number(c, coords, "altitude", "location.coords.altitude", &f->altitude_m)))
        goto out;
    f->lat = lat;
    f->lon = lon;
    /* The SDK writes -1 for a speed or heading it does not know. */
    f->speed_mps = speed < 0 ? NAN : speed;
    f->heading_deg = heading < 0 ? NAN : heading;

    if ((rc = json_opt_object(c, loc, "battery", "location.battery", &battery)))
        goto out;
    if (battery) {
        double level = NAN;
        if ((rc = json_opt_number(c, battery, "level", "location.battery.level", &level)))
            goto out;
        /* -1: the platform did not say (simulators, some tablets). */
        if (!isnan(level) && level != -1) {
            if (!(level >= 0 && level <= 1)) {
                am_why(c->why, c->whysz, 0, "'location.battery.level' must be between 0 and 1");
                rc = AM_EINVAL;
                goto out;
            }
            if ((rc = attr_put(c, "batt", json_real(level * 100))))
                goto out;
        }
        if ((rc = json_opt_bool(c, battery, "is_charging", "location.battery.is_charging",
                                "charge")))
            goto out;
    }
    if ((rc = json_opt_object(c, loc, "activity", "location.activity", &activity)))
        goto out;
    if (activity &&
        (rc = json_opt_string(c, activity, "type", "location.activity.type", "activity")))
        goto out;
    double odometer = NAN;
    if ((rc = json_opt_bool(c, loc, "is_moving", "location.is_moving", "is_moving")) ||
        (rc = json_opt_bool(c, loc, "mock", "location.mock", "mock")) ||
        (rc = json_opt_string(c, loc, "event", "location.event", "event")) ||
        (rc = json_opt_string(c, loc, "uuid", "location.uuid", "uuid")) ||
        (rc = json_opt_number(c, loc, "odometer", "location.odometer", &odometer)))
        goto out;
    if (!isnan(odometer)) {
        if (odometer < 0) {
            am_why(c->why, c->whysz, 0, "'location.odometer' must not be negative");
            rc = AM_EINVAL;
            goto out;
        }
        if ((rc = attr_put(c, "odometer", json_real(odometer))))
            goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ entry point */

/* Whether Content-Type `ct` names `type`, case aside, with or without parameters. */
static bool media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, type, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

int avl_osmand_decode(const char *query, const char *body, size_t blen, const char *content_type,
                      int64_t now_us, struct avl_fix *out, char *why, size_t whysz)
{
    struct osm_ctx c = {.fix = out, .why = why, .whysz = whysz};
    int rc;
    avl_fix_init(out);
    am_why(why, whysz, 0, "%s", "");
    if (!body)
        blen = 0;
    size_t qlen = query ? strnlen(query, OSM_MAX_INPUT + 1) : 0;
    if (blen > OSM_MAX_INPUT || qlen + blen > OSM_MAX_INPUT) {
        am_why(why, whysz, 0, "the request is longer than %d bytes", OSM_MAX_INPUT);
        rc = AM_ETOOBIG;
        goto out;
    }
    if (blen > 0 && content_type && media_type_is(content_type, "application/json")) {
        rc = decode_json(&c, body, blen);
        if (rc)
            goto out;
    } else {
        if (blen > 0 && content_type && *content_type &&
            !media_type_is(content_type, "application/x-www-form-urlencoded") &&
            !media_type_is(content_type, "text/plain")) {
            am_why(why, whysz, 0, "unsupported content type: a form or a JSON body was expected");
            rc = AM_EINVAL;
            goto out;
        }
        /* curl --data-binary @file and hand-written clients leave a line end. */
        while (blen > 0 && (body[blen - 1] == '\n' || body[blen - 1] == '\r' ||
                            body[blen - 1] == ' ' || body[blen - 1] == '\t'))
            blen--;
        if ((rc = form_params(&c, query ? query : "", qlen)) || (rc = form_params(&c, body, blen)))
            goto out;
        rc = AM_EINVAL;
        if (!out->device[0]) {
            am_why(why, whysz, 0, "no device id");
            goto out;
        }
        if (isnan(out->lat) || isnan(out->lon)) {
            am_why(why, whysz, 0, "no coordinates");
            goto out;
        }
    }
    if (!c.have_time)
        out->time_us = now_us;
    if ((rc = attrs_finish(&c)))
        goto out;
    rc = avl_fix_check(out, now_us, why, whysz);
out:
    if (rc)
        avl_fix_release(out);
    return rc;
}
