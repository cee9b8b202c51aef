/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_avl_osmand.c - unit tests of the two HTTP/MQTT position decoders of
 * src/avl: avl_osmand_decode() on requests shaped as the Traccar Client
 * apps send them (Android and iOS query strings, POST form bodies, the
 * location= and deviceid= variants, every timestamp form, the newer JSON
 * body with its nested battery and activity), and avl_mqtt_decode() on our
 * vehicle telemetry. Each refusal is checked for its code and its reason,
 * and for leaving no attributes behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

/* The server's clock in these tests: 100 s after 2023-11-14T22:13:20Z. */
#define T0_S   1700000000LL
#define NOW_US ((T0_S + 100) * 1000000)

/* ------------------------------------------------------------- helpers */

/* cmocka's float assertion rounds to float: compare doubles here, and show them. */
#define assert_near(a, b, eps) near_at((a), (b), (eps), #a, __LINE__)

static void near_at(double a, double b, double eps, const char *what, int line)
{
    if (!(fabs(a - b) <= eps))
        fail_msg("line %d: %s is %.17g, expected %.17g (within %g)", line, what, a, b, eps);
}

static int osm(const char *query, const char *body, const char *ct, struct avl_fix *f, char *why)
{
    why[0] = '\0';
    return avl_osmand_decode(query, body, body ? strlen(body) : 0, ct, NOW_US, f, why, 256);
}

/* Decodes and expects success; the caller releases *f. */
static void osm_ok(const char *query, const char *body, const char *ct, struct avl_fix *f)
{
    char why[256];
    int rc = osm(query, body, ct, f, why);
    if (rc)
        fail_msg("refused: %s (%s) for query '%s' body '%s'", am_strerror(rc), why,
                 query ? query : "", body ? body : "");
}

/* Decodes and expects AM_EINVAL with a reason containing `reason`. */
static void osm_bad(const char *query, const char *body, const char *ct, const char *reason)
{
    struct avl_fix f;
    char why[256];
    int rc = osm(query, body, ct, &f, why);
    if (rc != AM_EINVAL)
        fail_msg("expected AM_EINVAL, got %s for query '%s' body '%s'", am_strerror(rc),
                 query ? query : "", body ? body : "");
    if (!strstr(why, reason))
        fail_msg("reason '%s' does not say '%s' (query '%s' body '%s')", why, reason,
                 query ? query : "", body ? body : "");
    assert_null(f.attrs);
}

static double num_attr(const struct avl_fix *f, const char *key)
{
    const json_t *v = json_object_get(f->attrs, key);
    if (!json_is_number(v))
        fail_msg("attribute '%s' is not a number", key);
    return json_number_value(v);
}

static const char *str_attr(const struct avl_fix *f, const char *key)
{
    const json_t *v = json_object_get(f->attrs, key);
    if (!json_is_string(v))
        fail_msg("attribute '%s' is not a string", key);
    return json_string_value(v);
}

static bool bool_attr(const struct avl_fix *f, const char *key)
{
    const json_t *v = json_object_get(f->attrs, key);
    if (!json_is_boolean(v))
        fail_msg("attribute '%s' is not a boolean", key);
    return json_is_true(v);
}

/* ------------------------------------------------------------- OsmAnd: accepted */

static void test_android_query(void **state)
{
    struct avl_fix f;
    osm_ok("id=123456&timestamp=1700000000&lat=33.5731&lon=-7.5898&speed=12.3&bearing=90"
           "&altitude=50&accuracy=8&batt=87.5&charge=true",
           NULL, NULL, &f);
    assert_string_equal(f.device, "123456");
    assert_true(f.time_us == T0_S * 1000000);
    assert_near(f.lat, 33.5731, 0);
    assert_near(f.lon, -7.5898, 0);
    assert_near(f.speed_mps, 12.3 * 0.514444, 1e-12);
    assert_near(f.heading_deg, 90, 0);
    assert_near(f.altitude_m, 50, 0);
    assert_near(f.accuracy_m, 8, 0);
    assert_int_equal(f.satellites, -1);
    assert_int_equal(json_object_size(f.attrs), 2);
    assert_near(num_attr(&f, "batt"), 87.5, 0);
    assert_true(bool_attr(&f, "charge"));
    avl_fix_release(&f);
    assert_null(f.attrs);
}

/* The iOS app reports CoreLocation's -1 for a speed and course it does not know. */
static void test_ios_query(void **state)
{
    struct avl_fix f;
    osm_ok("id=ios-PAT-17&timestamp=1700000050&lat=33.589886&lon=-7.603869&speed=-1.94384"
           "&bearing=-1&altitude=31.2&accuracy=65&batt=64&charge=false",
           NULL, "", &f);
    assert_string_equal(f.device, "ios-PAT-17");
    assert_true(f.time_us == (T0_S + 50) * 1000000);
    assert_true(isnan(f.speed_mps));
    assert_true(isnan(f.heading_deg));
    assert_near(f.accuracy_m, 65, 0);
    assert_false(bool_attr(&f, "charge"));
    assert_near(num_attr(&f, "batt"), 64, 0);
    avl_fix_release(&f);
}

/* The same parameters POSTed as a form, with '+' for spaces and a line end left by curl. */
static void test_post_form(void **state)
{
    struct avl_fix f;
    osm_ok(NULL,
           "id=PAT-03&lat=34.0209&lon=-6.8416&timestamp=1700000000&heading=270&hdop=0.9"
           "&driverUniqueId=Agent+007%2FB&note=Rabat%20%C3%A9t%C3%A9\r\n",
           "application/x-www-form-urlencoded; charset=UTF-8", &f);
    assert_string_equal(f.device, "PAT-03");
    assert_near(f.heading_deg, 270, 0);
    assert_near(num_attr(&f, "hdop"), 0.9, 0);
    assert_string_equal(str_attr(&f, "driverUniqueId"), "Agent 007/B");
    assert_string_equal(str_attr(&f, "note"), "Rabat \xc3\xa9t\xc3\xa9");
    avl_fix_release(&f);

    /* A query and a body together: both read, the body last. */
    osm_ok("id=PAT-03&lat=1", "lat=34.0209&lon=-6.8416", "text/plain", &f);
    assert_string_equal(f.device, "PAT-03");
    assert_near(f.lat, 34.0209, 0);
    assert_true(f.time_us == NOW_US); /* no timestamp: the server's clock */
    avl_fix_release(&f);

    /* Without a Content-Type a body is read as a form, as Traccar does. */
    osm_ok("", "deviceid=PAT-04&location=33.57,-7.58", NULL, &f);
    assert_string_equal(f.device, "PAT-04");
    avl_fix_release(&f);
}

static void test_location_and_deviceid(void **state)
{
    struct avl_fix f;
    osm_ok("deviceid=867530912345678&location=33.57%2C-7.58&timestamp=1700000000", NULL, NULL, &f);
    assert_string_equal(f.device, "867530912345678");
    assert_near(f.lat, 33.57, 0);
    assert_near(f.lon, -7.58, 0);
    assert_null(f.attrs);
    avl_fix_release(&f);

    osm_ok("id=A&location=33.57,-7.58", NULL, NULL, &f);
    assert_near(f.lat, 33.57, 0);
    avl_fix_release(&f);
    osm_bad("id=A&location=33.57", NULL, NULL, "'location' must be two numbers");
    osm_bad("id=A&location=33.57,-7.58,1", NULL, NULL, "'location' must be two numbers");
    osm_bad("id=A&location=33.57,abc", NULL, NULL, "'location' must be two numbers");
    osm_bad("id=A&location=,", NULL, NULL, "'location' must be two numbers");
}

static void test_timestamps(void **state)
{
    static const struct {
        const char *ts;
        int64_t us;
    } ok[] = {
        {"1700000000", T0_S * 1000000},
        {"1700000000123", T0_S * 1000000 + 123000}, /* OsmAnd: milliseconds */
        {"2023-11-14T22:13:20Z", T0_S * 1000000},   /* ISO 8601 / RFC 3339 */
        {"2023-11-14T22:13:20.25Z", T0_S * 1000000 + 250000},
        {"2023-11-14T23:13:20%2B01:00", T0_S * 1000000}, /* offset, '+' encoded */
        {"2023-11-14T21:13:20-01:00", T0_S * 1000000},
        {"2023-11-14%2022:13:20", T0_S * 1000000}, /* yyyy-MM-dd HH:mm:ss, UTC */
        {"2023-11-14+22:13:20", T0_S * 1000000},   /* the same with '+' for the space */
        {"2023-11-14+22:13:20.5", T0_S * 1000000 + 500000},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char q[256];
        struct avl_fix f;
        snprintf(q, sizeof(q), "id=A&lat=33.5&lon=-7.5&timestamp=%s", ok[i].ts);
        osm_ok(q, NULL, NULL, &f);
        if (f.time_us != ok[i].us)
            fail_msg("timestamp %s: got %lld, want %lld", ok[i].ts, (long long)f.time_us,
                     (long long)ok[i].us);
        avl_fix_release(&f);
    }
    /* A '+' sent unencoded becomes a space: refused, with the reason why. */
    osm_bad("id=A&lat=33.5&lon=-7.5&timestamp=2023-11-14T23:13:20+01:00", NULL, NULL, "%2B");
    static const char *const bad[] = {
        "",
        "-1700000000",
        "17000000001234567",
        "2023-11-14T22:13:20",
        "2023-11-14",
        "yesterday",
        "2023-11-14 22:13",
        "2023-11-14 22:13:20x",
        "2023-13-14 22:13:20",
        "1.7e9",
        "2023-11-14 22:13:20 01:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char q[256];
        snprintf(q, sizeof(q), "id=A&lat=33.5&lon=-7.5&timestamp=%s", bad[i]);
        osm_bad(q, NULL, NULL, "'timestamp' is not a time");
    }
    /* A day ahead, and more than the 5 minutes of tolerance. */
    osm_bad("id=A&lat=33.5&lon=-7.5&timestamp=1700086500", NULL, NULL, "in the future");
    osm_bad("id=A&lat=33.5&lon=-7.5&timestamp=1700000401000", NULL, NULL, "in the future");
    /* Eight days old, and the epoch-seconds reading of a small number. */
    osm_bad("id=A&lat=33.5&lon=-7.5&timestamp=1699309000", NULL, NULL, "more than 7 days old");
    osm_bad("id=A&lat=33.5&lon=-7.5&timestamp=0", NULL, NULL, "more than 7 days old");
}

/* A parameter given twice keeps its last value, as in Traccar. */
static void test_duplicates_last_wins(void **state)
{
    struct avl_fix f;
    osm_ok("id=A&id=B&lat=10&lat=33.5&lon=-7.5&batt=10&batt=20&x=1&x=two", NULL, NULL, &f);
    assert_string_equal(f.device, "B");
    assert_near(f.lat, 33.5, 0);
    assert_near(num_attr(&f, "batt"), 20, 0);
    assert_string_equal(str_attr(&f, "x"), "two");
    assert_int_equal(json_object_size(f.attrs), 2);
    avl_fix_release(&f);
    /* The last value is checked too: a good one first does not excuse a bad one. */
    osm_bad("id=A&lat=33.5&lat=abc&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&id=&lat=33.5&lon=-7.5", NULL, NULL, "no device id");
}

static void test_attribute_values(void **state)
{
    struct avl_fix f;
    osm_ok("id=A&lat=33.5&lon=-7.5&int=42&neg=-3&real=2.5&exp=1e3&zero=0&lead=007&plus=%2B5"
           "&nan=NaN&inf=Infinity&big=1e999&valid=true&mock=false&empty=&flag&ip=10.0.0.1"
           "&huge=123456789012345678901234567890&cell=604,1,2,3",
           NULL, NULL, &f);
    assert_true(json_is_integer(json_object_get(f.attrs, "int")));
    assert_int_equal(json_integer_value(json_object_get(f.attrs, "int")), 42);
    assert_int_equal(json_integer_value(json_object_get(f.attrs, "neg")), -3);
    assert_true(json_is_real(json_object_get(f.attrs, "real")));
    assert_near(num_attr(&f, "real"), 2.5, 0);
    assert_near(num_attr(&f, "exp"), 1000, 0);
    assert_near(num_attr(&f, "zero"), 0, 0);
    /* Not JSON numbers: kept as written. */
    assert_string_equal(str_attr(&f, "lead"), "007");
    assert_string_equal(str_attr(&f, "plus"), "+5");
    assert_string_equal(str_attr(&f, "nan"), "NaN");
    assert_string_equal(str_attr(&f, "inf"), "Infinity");
    assert_string_equal(str_attr(&f, "big"), "1e999");
    assert_string_equal(str_attr(&f, "ip"), "10.0.0.1");
    assert_string_equal(str_attr(&f, "cell"), "604,1,2,3");
    assert_true(bool_attr(&f, "valid"));
    assert_false(bool_attr(&f, "mock"));
    assert_string_equal(str_attr(&f, "empty"), "");
    assert_string_equal(str_attr(&f, "flag"), "");
    /* Past int64: a real. */
    assert_true(json_is_real(json_object_get(f.attrs, "huge")));
    avl_fix_release(&f);

    /* Keys: 1 to 32 of [A-Za-z0-9_.-], percent-decoded first. */
    osm_ok("id=A&lat=33.5&lon=-7.5&b%61tt=50&io.239-x_Y=1&abcdefghijklmnopqrstuvwxyz012345=1", NULL,
           NULL, &f);
    assert_near(num_attr(&f, "batt"), 50, 0);
    assert_near(num_attr(&f, "io.239-x_Y"), 1, 0);
    assert_near(num_attr(&f, "abcdefghijklmnopqrstuvwxyz012345"), 1, 0);
    avl_fix_release(&f);
    osm_bad("id=A&lat=33.5&lon=-7.5&abcdefghijklmnopqrstuvwxyz0123456=1", NULL, NULL,
            "a parameter name must be");
    osm_bad("id=A&lat=33.5&lon=-7.5&a!=1", NULL, NULL, "a parameter name must be");
    osm_bad("id=A&lat=33.5&lon=-7.5&=1", NULL, NULL, "a parameter name must be");
    osm_bad("id=A&lat=33.5&lon=-7.5&a+b=1", NULL, NULL, "a parameter name must be");
    osm_bad("id=A&lat=33.5&lon=-7.5&%C3%A9=1", NULL, NULL, "a parameter name must be");

    /* Values: at most 256 bytes of UTF-8 after decoding. */
    char q[1200];
    char v[600];
    memset(v, 'v', 256);
    v[256] = '\0';
    snprintf(q, sizeof(q), "id=A&lat=33.5&lon=-7.5&note=%s", v);
    osm_ok(q, NULL, NULL, &f);
    assert_int_equal(strlen(str_attr(&f, "note")), 256);
    avl_fix_release(&f);
    snprintf(q, sizeof(q), "id=A&lat=33.5&lon=-7.5&note=%sv", v);
    osm_bad(q, NULL, NULL, "longer than 256 bytes");
    /* 86 escapes are 258 bytes once decoded. */
    q[0] = '\0';
    size_t n = (size_t)snprintf(q, sizeof(q), "id=A&lat=33.5&lon=-7.5&note=");
    for (int i = 0; i < 86; i++)
        n += (size_t)snprintf(q + n, sizeof(q) - n, "%%E2%%82%%AC");
    osm_bad(q, NULL, NULL, "longer than 256 bytes");
    osm_bad("id=A&lat=33.5&lon=-7.5&note=%FF", NULL, NULL, "not UTF-8");
    osm_bad("id=A&lat=33.5&lon=-7.5&note=%C3", NULL, NULL, "not UTF-8");
    osm_bad("id=A&lat=33.5&lon=-7.5&note=%ED%A0%80", NULL, NULL, "not UTF-8"); /* a surrogate */
    osm_bad("id=A&lat=33.5&lon=-7.5&note=%C0%AF", NULL, NULL, "not UTF-8");    /* overlong */
    osm_bad("id=A&lat=33.5&lon=-7.5&note=a%00b", NULL, NULL, "not UTF-8");
    osm_bad(NULL, "id=A&lat=33.5&lon=-7.5&note=\xff", NULL, "not UTF-8");

    /* Known numeric and boolean parameters are not free text. */
    osm_bad("id=A&lat=33.5&lon=-7.5&batt=full", NULL, NULL, "'batt' is not a number");
    osm_bad("id=A&lat=33.5&lon=-7.5&hdop=", NULL, NULL, "'hdop' is not a number");
    osm_bad("id=A&lat=33.5&lon=-7.5&charge=maybe", NULL, NULL, "'charge' must be true or false");
    osm_ok("id=A&lat=33.5&lon=-7.5&charge=1", NULL, NULL, &f);
    assert_true(bool_attr(&f, "charge"));
    avl_fix_release(&f);
}

static void test_attribute_limit(void **state)
{
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "id=A&lat=33.5&lon=-7.5"), 0);
    for (int i = 0; i < AVL_MAX_ATTRS + 6; i++)
        assert_int_equal(am_buf_printf(&b, "&k%d=%d", i, i), 0);
    struct avl_fix f;
    osm_ok(b.data, NULL, NULL, &f);
    assert_int_equal(json_object_size(f.attrs), AVL_MAX_ATTRS);
    /* 63 kept, the 64th gave its place to the count of the 7 dropped. */
    assert_int_equal(json_integer_value(json_object_get(f.attrs, "dropped_attrs")), 7);
    assert_non_null(json_object_get(f.attrs, "k62"));
    assert_null(json_object_get(f.attrs, "k63"));
    assert_null(json_object_get(f.attrs, "k64"));
    avl_fix_release(&f);
    am_buf_release(&b);

    /* Exactly AVL_MAX_ATTRS: all kept, nothing counted. */
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "id=A&lat=33.5&lon=-7.5"), 0);
    for (int i = 0; i < AVL_MAX_ATTRS; i++)
        assert_int_equal(am_buf_printf(&b, "&k%d=%d", i, i), 0);
    /* A known key set again does not take a new place. */
    assert_int_equal(am_buf_printf(&b, "&k0=again"), 0);
    osm_ok(b.data, NULL, NULL, &f);
    assert_int_equal(json_object_size(f.attrs), AVL_MAX_ATTRS);
    assert_null(json_object_get(f.attrs, "dropped_attrs"));
    assert_string_equal(str_attr(&f, "k0"), "again");
    avl_fix_release(&f);
    am_buf_release(&b);
}

/* ------------------------------------------------------------- OsmAnd: refused */

static void test_refused_queries(void **state)
{
    osm_bad("lat=33.5&lon=-7.5", NULL, NULL, "no device id");
    osm_bad("id=&lat=33.5&lon=-7.5", NULL, NULL, "no device id");
    osm_bad(NULL, NULL, NULL, "no device id");
    osm_bad("", "", "application/json", "no device id");
    osm_bad("id=A&lon=-7.5", NULL, NULL, "no coordinates");
    osm_bad("id=A&lat=33.5", NULL, NULL, "no coordinates");
    osm_bad("id=A&lat=91&lon=-7.5", NULL, NULL, "coordinates out of range");
    osm_bad("id=A&lat=33.5&lon=180.0001", NULL, NULL, "coordinates out of range");
    osm_bad("id=A&lat=abc&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=33,5&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=+33.5&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=%2033.5&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=NaN&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=33.5&lon=Infinity", NULL, NULL, "'lon' is not a number");
    osm_bad("id=A&lat=33.5&lon=-inf", NULL, NULL, "'lon' is not a number");
    osm_bad("id=A&lat=1e999&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=0x21&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&lat=0&lon=0", NULL, NULL, "(0, 0)");
    osm_bad("id=A&lat=0.0&lon=-0.0", NULL, NULL, "(0, 0)");
    osm_bad("id=A&lat=33.5&lon=-7.5&speed=abc", NULL, NULL, "'speed' is not a number");
    osm_bad("id=A&lat=33.5&lon=-7.5&speed=500", NULL, NULL, "speed out of range");
    osm_bad("id=A&lat=33.5&lon=-7.5&bearing=361", NULL, NULL, "heading out of range");
    osm_bad("id=A&lat=33.5&lon=-7.5&accuracy=-5", NULL, NULL, "accuracy out of range");
    osm_bad("id=A&lat=33.5&lon=-7.5&altitude=99999", NULL, NULL, "altitude out of range");

    /* Percent-encoding is strict. */
    osm_bad("id=A%zz&lat=33.5&lon=-7.5", NULL, NULL, "bad percent-encoding");
    osm_bad("id=A&lat=33.5&lon=-7.5%4", NULL, NULL, "bad percent-encoding");
    osm_bad("id=A&lat=33.5&lon=-7.5%", NULL, NULL, "bad percent-encoding");
    osm_bad("id=A&lat=33.5&lon=-7.5&x%g1=1", NULL, NULL, "bad percent-encoding");
    osm_bad(NULL, "id=A&lat=33.5&lon=-7.5&n=%%", "application/x-www-form-urlencoded",
            "bad percent-encoding");
    /* A NUL in the id, by escape or raw in a body, and ids the fix refuses. */
    osm_bad("id=12%003&lat=33.5&lon=-7.5", NULL, NULL, "not UTF-8");
    struct avl_fix f;
    char why[256];
    static const char nul_body[] = "id=12\0003&lat=33.5&lon=-7.5";
    assert_int_equal(
        avl_osmand_decode(NULL, nul_body, sizeof(nul_body) - 1, NULL, NOW_US, &f, why, sizeof(why)),
        AM_EINVAL);
    assert_null(f.attrs);
    osm_bad("id=a/b&lat=33.5&lon=-7.5", NULL, NULL, "the device id must be");
    osm_bad("id=a+b&lat=33.5&lon=-7.5", NULL, NULL, "the device id must be");
    osm_bad("id=%C3%A9&lat=33.5&lon=-7.5", NULL, NULL, "the device id must be");
    osm_bad("id=0123456789012345678901234567890123456789012345678901234567890123&lat=33.5"
            "&lon=-7.5",
            NULL, NULL, "longer than 63 bytes");
    osm_ok("id=012345678901234567890123456789012345678901234567890123456789012&lat=33.5"
           "&lon=-7.5",
           NULL, NULL, &f);
    avl_fix_release(&f);

    /* Attributes made before the refusal are released. */
    osm_bad("id=A&batt=50&charge=true&x=1&lat=abc&lon=-7.5", NULL, NULL, "'lat' is not a number");
    osm_bad("id=A&batt=50&lat=91&lon=-7.5", NULL, NULL, "coordinates out of range");

    /* Bodies of another type. */
    osm_bad(NULL, "id=A&lat=33.5&lon=-7.5", "multipart/form-data; boundary=x",
            "unsupported content type");
    osm_bad(NULL, "<xml/>", "application/xml", "unsupported content type");
}

static void test_size_limit(void **state)
{
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    memcpy(big, "id=A&lat=33.5&lon=-7.5&x=", 25);
    big[n] = '\0';
    struct avl_fix f;
    char why[256];
    assert_int_equal(avl_osmand_decode(big, NULL, 0, NULL, NOW_US, &f, why, sizeof(why)),
                     AM_ETOOBIG);
    assert_non_null(strstr(why, "65536"));
    assert_int_equal(avl_osmand_decode(NULL, big, n, NULL, NOW_US, &f, why, sizeof(why)),
                     AM_ETOOBIG);
    assert_int_equal(
        avl_osmand_decode(NULL, big, n, "application/json", NOW_US, &f, why, sizeof(why)),
        AM_ETOOBIG);
    /* Query and body count together: 40 KiB of each is too much. */
    big[40 * 1024] = '\0';
    assert_int_equal(avl_osmand_decode(big, big, 40 * 1024, NULL, NOW_US, &f, why, sizeof(why)),
                     AM_ETOOBIG);
    /* 64 KiB of many small parameters is fine, within the attribute limit. */
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "id=A&lat=33.5&lon=-7.5"), 0);
    while (b.len < 65000)
        assert_int_equal(am_buf_printf(&b, "&k%zu=1", b.len % 1000), 0);
    osm_ok(b.data, NULL, NULL, &f);
    assert_true(json_object_size(f.attrs) <= AVL_MAX_ATTRS);
    avl_fix_release(&f);
    am_buf_release(&b);
    free(big);
    /* No room for a reason is not an error of its own. */
    assert_int_equal(avl_osmand_decode("id=A", NULL, 0, NULL, NOW_US, &f, NULL, 0), AM_EINVAL);
}

/* ------------------------------------------------------------- OsmAnd: JSON */

/* As Traccar Client 9 sends it (Transistor Software background geolocation). */
static const char json_body[] =
    "{\"location\":{\"event\":\"motionchange\",\"is_moving\":true,"
    "\"uuid\":\"a1b2c3d4-0f6e-4d4a-9b1e-5f3c2d1e0a9b\",\"timestamp\":\"2023-11-14T22:13:20.633Z\","
    "\"odometer\":12345.6,\"coords\":{\"latitude\":33.5731,\"longitude\":-7.5898,"
    "\"accuracy\":13.8,\"speed\":4.2,\"speed_accuracy\":-1,\"heading\":-1,"
    "\"heading_accuracy\":-1,\"altitude\":46.1,\"altitude_accuracy\":2.3,"
    "\"ellipsoidal_altitude\":46.1,\"floor\":null},"
    "\"activity\":{\"type\":\"in_vehicle\",\"confidence\":100},"
    "\"battery\":{\"is_charging\":false,\"level\":0.55},\"extras\":{},\"age\":41},"
    "\"device_id\":\"PAT-21\"}";

static void test_json_body(void **state)
{
    struct avl_fix f;
    osm_ok(NULL, json_body, "application/json", &f);
    assert_string_equal(f.device, "PAT-21");
    assert_true(f.time_us == T0_S * 1000000 + 633000);
    assert_near(f.lat, 33.5731, 0);
    assert_near(f.lon, -7.5898, 0);
    assert_near(f.speed_mps, 4.2, 0);  /* m/s already */
    assert_true(isnan(f.heading_deg)); /* -1: unknown */
    assert_near(f.accuracy_m, 13.8, 0);
    assert_near(f.altitude_m, 46.1, 0);
    assert_near(num_attr(&f, "batt"), 55, 1e-9);
    assert_false(bool_attr(&f, "charge"));
    assert_true(bool_attr(&f, "is_moving"));
    assert_string_equal(str_attr(&f, "activity"), "in_vehicle");
    assert_string_equal(str_attr(&f, "event"), "motionchange");
    assert_near(num_attr(&f, "odometer"), 12345.6, 0);
    assert_string_equal(str_attr(&f, "uuid"), "a1b2c3d4-0f6e-4d4a-9b1e-5f3c2d1e0a9b");
    avl_fix_release(&f);

    /* With a charset, whatever the case; the query is not read beside a JSON body. */
    osm_ok("id=OTHER&lat=1&lon=1",
           "{\"device_id\":\"PAT-22\",\"location\":{\"coords\":{\"latitude\":33,"
           "\"longitude\":-7}}}",
           "Application/JSON; charset=utf-8", &f);
    assert_string_equal(f.device, "PAT-22");
    assert_near(f.lat, 33, 0);
    assert_true(f.time_us == NOW_US);
    assert_null(f.attrs);
    avl_fix_release(&f);

    /* A battery level of -1 is "unknown" on the SDK's simulators. */
    osm_ok(NULL,
           "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7},"
           "\"battery\":{\"level\":-1,\"is_charging\":true}}}",
           "application/json", &f);
    assert_null(json_object_get(f.attrs, "batt"));
    assert_true(bool_attr(&f, "charge"));
    avl_fix_release(&f);
}

static void test_json_refused(void **state)
{
    const char *ct = "application/json";
    osm_bad(NULL, "{\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7}}}", ct,
            "no device id");
    osm_bad(NULL,
            "{\"device_id\":\"\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7}}}", ct,
            "no device id");
    osm_bad(NULL,
            "{\"device_id\":123,\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7}}}", ct,
            "'device_id' must be a string");
    osm_bad(NULL, "{\"device_id\":\"A\"}", ct, "no coordinates");
    osm_bad(NULL, "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33}}}", ct,
            "no coordinates");
    osm_bad(NULL, "{\"device_id\":\"A\",\"location\":{\"timestamp\":\"2023-11-14T22:13:20Z\"}}", ct,
            "no coordinates");
    /* Duplicate keys, at the top and nested. */
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"device_id\":\"B\",\"location\":{\"coords\":{\"latitude\":33,"
            "\"longitude\":-7}}}",
            ct, "duplicate");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"latitude\":34,"
            "\"longitude\":-7}}}",
            ct, "duplicate");
    /* Arrays where objects are expected. */
    osm_bad(NULL, "[{\"device_id\":\"A\"}]", ct, "a JSON object was expected");
    osm_bad(NULL, "{\"device_id\":\"A\",\"location\":[{\"coords\":{\"latitude\":33}}]}", ct,
            "'location' must be an object");
    osm_bad(NULL, "{\"device_id\":\"A\",\"location\":{\"coords\":[33,-7]}}", ct,
            "'location.coords' must be an object");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7},"
            "\"battery\":[0.5]}}",
            ct, "'location.battery' must be an object");
    /* Types. */
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":\"33\","
            "\"longitude\":-7}}}",
            ct, "'location.coords.latitude' must be a number");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7,"
            "\"speed\":\"fast\"}}}",
            ct, "'location.coords.speed' must be a number");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7},"
            "\"is_moving\":\"yes\"}}",
            ct, "'location.is_moving' must be true or false");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7},"
            "\"battery\":{\"level\":55}}}",
            ct, "between 0 and 1");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":33,\"longitude\":-7},"
            "\"activity\":{\"type\":7}}}",
            ct, "'location.activity.type' must be a string");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"timestamp\":1700000000,\"coords\":{"
            "\"latitude\":33,\"longitude\":-7}}}",
            ct, "'location.timestamp' must be an RFC 3339 time");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"timestamp\":\"2023-11-15T22:13:20Z\","
            "\"coords\":{\"latitude\":33,\"longitude\":-7}}}",
            ct, "in the future");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":0,\"longitude\":0}}}", ct,
            "(0, 0)");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":91,\"longitude\":0}}}", ct,
            "coordinates out of range");
    /* Not JSON, or not UTF-8, or NaN. */
    osm_bad(NULL, "{\"device_id\":\"A\",", ct, "malformed JSON");
    osm_bad(NULL, "{\"device_id\":\"A\xff\"}", ct, "not valid UTF-8");
    osm_bad(NULL,
            "{\"device_id\":\"A\",\"location\":{\"coords\":{\"latitude\":NaN,\"longitude\":1}}}",
            ct, "malformed JSON");
    osm_bad(NULL, "{\"device_id\":\"A\\u0000B\"}", ct, "malformed JSON");
}

/* ------------------------------------------------------------- MQTT telemetry */

static int mq(const char *device, const char *payload, struct avl_fix *f, char *why)
{
    why[0] = '\0';
    return avl_mqtt_decode(device, payload, strlen(payload), NOW_US, f, why, 256);
}

static void mq_bad(const char *device, const char *payload, const char *reason)
{
    struct avl_fix f;
    char why[256];
    int rc = mq(device, payload, &f, why);
    if (rc != AM_EINVAL)
        fail_msg("expected AM_EINVAL, got %s for '%s'", am_strerror(rc), payload);
    if (!strstr(why, reason))
        fail_msg("reason '%s' does not say '%s' for '%s'", why, reason, payload);
    assert_null(f.attrs);
}

static void test_mqtt_full(void **state)
{
    struct avl_fix f;
    char why[256];
    int rc = mq("VH-0042",
                "{\"time\":\"2023-11-14T22:13:20.5Z\",\"lat\":33.5731,\"lon\":-7.5898,"
                "\"speed_kmh\":72,\"heading\":181.5,\"altitude\":52,\"accuracy\":3.5,"
                "\"ignition\":true,\"siren\":true,\"lightbar\":false,\"fuel_pct\":63.5,"
                "\"odometer_km\":184220.4,\"doors_open\":false,\"event\":\"harsh_braking\"}",
                &f, why);
    if (rc)
        fail_msg("refused: %s", why);
    assert_string_equal(f.device, "VH-0042");
    assert_true(f.time_us == T0_S * 1000000 + 500000);
    assert_near(f.lat, 33.5731, 0);
    assert_near(f.lon, -7.5898, 0);
    assert_near(f.speed_mps, 20, 1e-12);
    assert_near(f.heading_deg, 181.5, 0);
    assert_near(f.altitude_m, 52, 0);
    assert_near(f.accuracy_m, 3.5, 0);
    assert_true(bool_attr(&f, "ignition"));
    assert_true(bool_attr(&f, "siren"));
    assert_false(bool_attr(&f, "lightbar"));
    assert_false(bool_attr(&f, "doors_open"));
    assert_near(num_attr(&f, "fuel_pct"), 63.5, 0);
    assert_near(num_attr(&f, "odometer_km"), 184220.4, 0);
    assert_string_equal(str_attr(&f, "event"), "harsh_braking");
    assert_int_equal(json_object_size(f.attrs), 7);
    avl_fix_release(&f);

    /* Only the position: the time is the server's, the rest unknown. */
    assert_int_equal(mq("unit-7", "{\"lat\":34,\"lon\":-6.8}", &f, why), 0);
    assert_true(f.time_us == NOW_US);
    assert_true(isnan(f.speed_mps) && isnan(f.heading_deg) && isnan(f.altitude_m));
    assert_null(f.attrs);
    avl_fix_release(&f);

    assert_int_equal(
        mq("unit-7", "{\"lat\":34,\"lon\":-6.8,\"time\":\"2023-11-14T23:13:20+01:00\"}", &f, why),
        0);
    assert_true(f.time_us == T0_S * 1000000);
    avl_fix_release(&f);

    static const char *const events[] = {"crash", "harsh_braking", "harsh_acceleration", "panic"};
    for (size_t i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof(p), "{\"lat\":34,\"lon\":-6.8,\"event\":\"%s\"}", events[i]);
        assert_int_equal(mq("unit-7", p, &f, why), 0);
        assert_string_equal(str_attr(&f, "event"), events[i]);
        avl_fix_release(&f);
    }
}

static void test_mqtt_refused(void **state)
{
    const char *d = "VH-0042";
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"speed\":10}", "unknown field 'speed'");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"Siren\":true}", "unknown field 'Siren'");
    /* A member's name goes into the reason as one line. */
    mq_bad(d, "{\"lat\":34,\"l\x7fon\":-6.8,\"\\n\":1}", "unknown field 'l?on'");
    mq_bad(d, "{\"\\r\\n\":1,\"lat\":34,\"lon\":-6.8}",
           "unknown field '?"
           "?'");
    mq_bad(d, "{\"lon\":-6.8}", "no coordinates");
    mq_bad(d, "{\"lat\":34}", "no coordinates");
    mq_bad(d, "{\"lat\":\"34\",\"lon\":-6.8}", "'lat' must be a number");
    mq_bad(d, "{\"lat\":null,\"lon\":-6.8}", "'lat' must be a number");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"heading\":true}", "'heading' must be a number");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"ignition\":\"true\"}",
           "'ignition' must be true or false");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"siren\":1}", "'siren' must be true or false");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"doors_open\":null}",
           "'doors_open' must be true or false");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"fuel_pct\":101}", "between 0 and 100");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"fuel_pct\":-0.5}", "between 0 and 100");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"odometer_km\":-1}", "must not be negative");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"speed_kmh\":-3}", "'speed_kmh' must not be negative");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"speed_kmh\":900}", "speed out of range");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"heading\":400}", "heading out of range");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"event\":\"Crash\"}", "'event' must be one of");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"event\":1}", "'event' must be one of");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"time\":1700000000}", "'time' must be an RFC 3339");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"time\":\"2023-11-14 22:13:20\"}", "'time' must be");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"time\":\"2023-11-15T22:13:20Z\"}", "in the future");
    mq_bad(d, "{\"lat\":0,\"lon\":0}", "(0, 0)");
    mq_bad(d, "{\"lat\":-90.5,\"lon\":1}", "coordinates out of range");
    mq_bad(d, "{\"lat\":34,\"lat\":35,\"lon\":-6.8}", "duplicate");
    mq_bad(d, "[{\"lat\":34,\"lon\":-6.8}]", "a JSON object was expected");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"x\":{}}", "unknown field 'x'");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8", "malformed JSON");
    mq_bad(d, "{\"lat\":NaN,\"lon\":-6.8}", "malformed JSON");
    mq_bad(d, "{\"lat\":34,\"lon\":-6.8,\"event\":\"cr\xc3\"}", "not valid UTF-8");
    mq_bad(d, "", "empty");
    mq_bad(NULL, "{\"lat\":34,\"lon\":-6.8}", "no device id");
    mq_bad("", "{\"lat\":34,\"lon\":-6.8}", "no device id");
    mq_bad("unit/7", "{\"lat\":34,\"lon\":-6.8}", "the device id must be");
    mq_bad("0123456789012345678901234567890123456789012345678901234567890123",
           "{\"lat\":34,\"lon\":-6.8}", "longer than 63 bytes");

    /* 16 KiB at most. */
    size_t n = 16 * 1024 + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"lat\":34,\"lon\":-6.8}", 21);
    big[n] = '\0';
    struct avl_fix f;
    char why[256];
    assert_int_equal(avl_mqtt_decode(d, big, n, NOW_US, &f, why, sizeof(why)), AM_ETOOBIG);
    assert_null(f.attrs);
    assert_int_equal(avl_mqtt_decode(d, big, n - 1, NOW_US, &f, why, sizeof(why)), 0);
    avl_fix_release(&f);
    free(big);
}

int main(void)
{
    const struct CMUnitTest osmand[] = {
        cmocka_unit_test(test_android_query),    cmocka_unit_test(test_ios_query),
        cmocka_unit_test(test_post_form),        cmocka_unit_test(test_location_and_deviceid),
        cmocka_unit_test(test_timestamps),       cmocka_unit_test(test_duplicates_last_wins),
        cmocka_unit_test(test_attribute_values), cmocka_unit_test(test_attribute_limit),
        cmocka_unit_test(test_refused_queries),  cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_json_body),        cmocka_unit_test(test_json_refused),
    };
    const struct CMUnitTest mqtt[] = {
        cmocka_unit_test(test_mqtt_full),
        cmocka_unit_test(test_mqtt_refused),
    };
    int failed = cmocka_run_group_tests_name("avl osmand", osmand, NULL, NULL);
    failed += cmocka_run_group_tests_name("avl mqtt telemetry", mqtt, NULL, NULL);
    return failed;
}
