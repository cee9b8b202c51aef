/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_core.c - unit tests of src/core: error names, bounded strings, integer
 * and UTF-8 validation, growable buffers, RFC 3339 time, the strict JSON
 * reader and canonical form, configuration from file, environment and
 * arguments, roles, the worker pool and the Prometheus metrics text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

/* ------------------------------------------------------------- errors */

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    static const int codes[] = {AM_OK,    AM_ENOMEM,  AM_EINVAL,  AM_ENOTFOUND,  AM_ECONFLICT,
                                AM_EIO,   AM_ETOOBIG, AM_EAUTH,   AM_EFORBIDDEN, AM_ECORRUPT,
                                AM_EBUSY, AM_ELOCKED, AM_ECLOSED, AM_EINTERNAL};
    const size_t n = sizeof(codes) / sizeof(codes[0]);
    const char *unknown = am_strerror(-1000);
    assert_non_null(unknown);
    assert_string_equal(am_strerror(1), unknown);
    for (size_t i = 0; i < n; i++) {
        const char *s = am_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, unknown);
        /* Each code has its own name. */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, am_strerror(codes[j]));
    }
    assert_string_equal(am_strerror(AM_OK), "success");
    assert_string_equal(am_strerror(AM_ENOTFOUND), "not found");
    assert_string_equal(am_strerror(AM_ELOCKED), "account locked");
}

/* ------------------------------------------------------------- strings */

static void test_strlcpy_truncates_and_terminates(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(am_strlcpy(buf, "abc", sizeof(buf)), 3);
    assert_string_equal(buf, "abc");

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(am_strlcpy(buf, "0123456789", sizeof(buf)), 10);
    assert_string_equal(buf, "0123456");

    /* Exactly size-1 characters fit. */
    assert_int_equal(am_strlcpy(buf, "abcdefg", sizeof(buf)), 7);
    assert_string_equal(buf, "abcdefg");

    /* Size 0 writes nothing at all. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(am_strlcpy(buf, "abc", 0), 3);
    assert_int_equal(buf[0], 'X');

    /* Size 1 leaves an empty string. */
    assert_int_equal(am_strlcpy(buf, "abc", 1), 3);
    assert_string_equal(buf, "");
}

static void test_parse_i64(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(am_parse_i64("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(am_parse_i64("+7", 0, 100, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(am_parse_i64("-7", -10, 10, &v), 0);
    assert_true(v == -7);
    assert_int_equal(am_parse_i64("0", 0, 0, &v), 0);
    assert_int_equal(v, 0);

    /* Bounds are inclusive. */
    assert_int_equal(am_parse_i64("100", 0, 100, &v), 0);
    assert_int_equal(am_parse_i64("101", 0, 100, &v), AM_EINVAL);
    assert_int_equal(am_parse_i64("-1", 0, 100, &v), AM_EINVAL);
    assert_int_equal(am_parse_i64("-10", -10, 10, &v), 0);
    assert_int_equal(am_parse_i64("-11", -10, 10, &v), AM_EINVAL);

    /* The full range, and one past it either way. */
    assert_int_equal(am_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(am_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(am_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), AM_EINVAL);
    assert_int_equal(am_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), AM_EINVAL);
    assert_int_equal(am_parse_i64("99999999999999999999999", INT64_MIN, INT64_MAX, &v), AM_EINVAL);

    /* A failed parse leaves the output alone. */
    v = 1234;
    static const char *const garbage[] = {"",    " 1",  "1 ", "1a", "a1", "0x10", "1.5", "1e3",
                                          "--1", "+-1", "-",  "+",  " ",  "１",   "1\n", "12,3"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        if (am_parse_i64(garbage[i], INT64_MIN, INT64_MAX, &v) != AM_EINVAL)
            fail_msg("'%s' was accepted", garbage[i]);
    }
    assert_int_equal(am_parse_i64(NULL, 0, 1, &v), AM_EINVAL);
    assert_int_equal(v, 1234);
}

static bool utf8(const char *s)
{
    return am_utf8_valid(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8(""));
    assert_true(utf8("plain ASCII, with punctuation!"));
    assert_true(utf8("السلام عليكم، الشرطة الوطنية"));
    assert_true(utf8("ⵜⴰⵎⴰⵣⵉⵖⵜ"));
    assert_true(utf8("Médina de Fès – café"));
    assert_true(utf8("\xf0\x9f\x9a\x93")); /* U+1F693 police car */
    assert_true(utf8("\xef\xbf\xbf"));     /* U+FFFF */
    assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
    assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
    assert_true(utf8("\xee\x80\x80"));     /* U+E000, just above them */

    /* Overlong forms. */
    assert_false(utf8("\xc0\x80"));
    assert_false(utf8("\xc1\xbf"));
    assert_false(utf8("\xe0\x80\xaf"));
    assert_false(utf8("\xe0\x9f\xbf"));
    assert_false(utf8("\xf0\x80\x80\xaf"));
    assert_false(utf8("\xf0\x8f\xbf\xbf"));
    /* Surrogates. */
    assert_false(utf8("\xed\xa0\x80"));
    assert_false(utf8("\xed\xbf\xbf"));
    /* Past U+10FFFF, and lead bytes that can never appear. */
    assert_false(utf8("\xf4\x90\x80\x80"));
    assert_false(utf8("\xf5\x80\x80\x80"));
    assert_false(utf8("\xf8\x88\x80\x80\x80"));
    assert_false(utf8("\xff"));
    assert_false(utf8("\xfe"));
    /* A continuation byte on its own, and truncated sequences. */
    assert_false(utf8("\x80"));
    assert_false(utf8("a\xbf"));
    assert_false(utf8("\xc3"));
    assert_false(utf8("\xe2\xb5"));
    assert_false(utf8("\xf0\x9f\x9a"));
    assert_false(utf8("ok \xd8"));
    assert_false(utf8("\xe2\x28\xa1"));

    /* A NUL byte is refused anywhere. */
    assert_false(am_utf8_valid("ab\0cd", 5));
    assert_false(am_utf8_valid("\0", 1));
    /* Only `n` bytes are read: a sequence cut by the length is truncated. */
    const char *tifinagh = "ⵜⴰⵎⴰⵣⵉⵖⵜ";
    assert_true(am_utf8_valid(tifinagh, 3));
    assert_false(am_utf8_valid(tifinagh, 4));
    assert_false(am_utf8_valid(tifinagh, 5));
    assert_true(am_utf8_valid(tifinagh, 6));
}

static void test_hex_id_sha256(void **state)
{
    (void)state;
    uint8_t in[4] = {0x00, 0x7f, 0xa5, 0xff}, out[4];
    char hex[9];
    am_hex(in, 4, hex);
    assert_string_equal(hex, "007fa5ff");
    assert_int_equal(am_unhex("007FA5ff", out, 4), 0);
    assert_memory_equal(in, out, 4);
    assert_int_equal(am_unhex("007fa5f", out, 4), AM_EINVAL);
    assert_int_equal(am_unhex("007fa5fg", out, 4), AM_EINVAL);
    assert_int_equal(am_unhex("007fa5ff00", out, 4), AM_EINVAL);

    char a[AM_ID_BUFSZ], b[AM_ID_BUFSZ];
    am_id_new(a);
    am_id_new(b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);

    uint8_t h[AM_SHA256_LEN];
    char hh[2 * AM_SHA256_LEN + 1];
    am_sha256("abc", 3, h);
    am_hex(h, AM_SHA256_LEN, hh);
    assert_string_equal(hh, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ------------------------------------------------------------- buffers */

static void test_buf_growth(void **state)
{
    (void)state;
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(b.len, 0);
    /* Grow well past any initial capacity, one byte pattern at a time. */
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        assert_int_equal(am_buf_append(&b, &c, 1), 0);
    }
    assert_int_equal(b.len, 10000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(am_buf_printf(&b, "|%d|%s|", 42, "x"), 0);
    assert_int_equal(b.len, 10006);
    assert_string_equal(b.data + 10000, "|42|x|");
    assert_int_equal(am_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 10006);
    am_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_max_and_steal(void **state)
{
    (void)state;
    struct am_buf b;
    am_buf_init(&b, 10);
    assert_int_equal(am_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 10);
    /* One byte more than max is refused and changes nothing. */
    assert_int_equal(am_buf_append(&b, "x", 1), AM_ETOOBIG);
    assert_int_equal(am_buf_printf(&b, "%c", 'y'), AM_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    /* Appending nothing at the limit is fine. */
    assert_int_equal(am_buf_append(&b, "", 0), 0);

    char *s = am_buf_steal(&b);
    assert_string_equal(s, "0123456789");
    free(s);
    /* After a steal the buffer is empty, keeps its limit, and is usable again. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 10);
    assert_int_equal(am_buf_append(&b, "01234567890", 11), AM_ETOOBIG);
    assert_int_equal(am_buf_printf(&b, "%s", "abc"), 0);
    assert_string_equal(b.data, "abc");
    am_buf_release(&b);

    /* Stealing from an empty buffer gives an empty string, not NULL. */
    am_buf_init(&b, 0);
    s = am_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    am_buf_release(&b);
}

/* ------------------------------------------------------------- time */

static int64_t parse_ok(const char *s)
{
    int64_t us = 0;
    int rc = am_time_parse(s, &us);
    if (rc)
        fail_msg("'%s' was refused: %s", s, am_strerror(rc));
    return us;
}

static void test_time_fmt(void **state)
{
    (void)state;
    char buf[AM_TIME_BUFSZ];
    assert_string_equal(am_time_fmt(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(am_time_fmt(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999999Z");
    assert_string_equal(am_time_fmt(1709164800123456LL, buf, sizeof(buf)),
                        "2024-02-29T00:00:00.123456Z");
    assert_string_equal(am_time_fmt(1735725600000001LL, buf, sizeof(buf)),
                        "2025-01-01T10:00:00.000001Z");
    /* A short buffer is still terminated. */
    char small[11];
    am_time_fmt(0, small, sizeof(small));
    assert_string_equal(small, "1970-01-01");
}

static void test_time_parse(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("2025-01-01T10:00:00Z") == 1735725600000000LL);
    assert_true(parse_ok("2025-01-01t10:00:00z") == 1735725600000000LL);
    /* Offsets: +01:00 (Casablanca in 2025) is one hour ahead of UTC. */
    assert_true(parse_ok("2025-01-01T11:00:00+01:00") == 1735725600000000LL);
    assert_true(parse_ok("2025-01-01T05:30:00-04:30") == 1735725600000000LL);
    assert_true(parse_ok("2025-01-01T10:00:00+00:00") == 1735725600000000LL);
    assert_true(parse_ok("2025-01-01T00:30:00+01:00") == 1735687800000000LL);
    assert_true(parse_ok("2024-12-31T23:00:00-11:00") == 1735725600000000LL);
    /* Fractions: 1 to 6 digits, further digits truncated. */
    assert_true(parse_ok("2025-01-01T10:00:00.5Z") == 1735725600500000LL);
    assert_true(parse_ok("2025-01-01T10:00:00.000001Z") == 1735725600000001LL);
    assert_true(parse_ok("2025-01-01T10:00:00.123456789Z") == 1735725600123456LL);
    assert_true(parse_ok("2025-01-01T11:00:00.25+01:00") == 1735725600250000LL);
    /* Before the epoch. */
    assert_true(parse_ok("1969-12-31T23:59:59.999999Z") == -1);

    /* Leap days. */
    assert_true(parse_ok("2024-02-29T00:00:00Z") == 1709164800000000LL);
    assert_true(parse_ok("2000-02-29T12:00:00Z") == 951825600000000LL);
    int64_t us = 77;
    assert_int_equal(am_time_parse("2025-02-29T00:00:00Z", &us), AM_EINVAL);
    assert_int_equal(am_time_parse("1900-02-29T00:00:00Z", &us), AM_EINVAL);
    assert_int_equal(am_time_parse("2024-02-30T00:00:00Z", &us), AM_EINVAL);
    assert_int_equal(am_time_parse("2025-04-31T00:00:00Z", &us), AM_EINVAL);

    static const char *const garbage[] = {
        "",
        "now",
        "2025-01-01",
        "2025-01-01T10:00:00", /* no offset */
        "2025-01-01T10:00Z",   /* no seconds */
        "2025-01-01X10:00:00Z",
        "2025/01/01T10:00:00Z",
        "25-01-01T10:00:00Z",
        "2025-1-01T10:00:00Z",
        "2025-00-01T10:00:00Z",
        "2025-13-01T10:00:00Z",
        "2025-01-00T10:00:00Z",
        "2025-01-32T10:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T10:60:00Z",
        "2025-01-01T10:00:61Z",
        "2025-01-01T10:00:00.Z",    /* a dot without digits */
        "2025-01-01T10:00:00+0100", /* offset without colon */
        "2025-01-01T10:00:00+01",
        "2025-01-01T10:00:00+24:00",
        "2025-01-01T10:00:00+01:60",
        "2025-01-01T10:00:00ZZ",
        "2025-01-01T10:00:00Z ",
        "2025-01-01T10:00:00+01:00junk",
        " 2025-01-01T10:00:00Z",
        "2025-01-01T1a:00:00Z",
        "+025-01-01T10:00:00Z",
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        if (am_time_parse(garbage[i], &us) != AM_EINVAL)
            fail_msg("'%s' was accepted", garbage[i]);
    }
    assert_int_equal(am_time_parse(NULL, &us), AM_EINVAL);
    assert_true(us == 77);
}

static void test_time_round_trip(void **state)
{
    (void)state;
    const int64_t values[] = {0,
                              1,
                              -1,
                              999999,
                              1709164800000000LL,
                              1709251199999999LL,
                              1735725600123456LL,
                              -86400000000LL * 365,
                              253402300799999999LL, /* 9999-12-31T23:59:59.999999Z */
                              am_now_us()};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[AM_TIME_BUFSZ];
        am_time_fmt(values[i], buf, sizeof(buf));
        int64_t back = 0;
        assert_int_equal(am_time_parse(buf, &back), 0);
        if (back != values[i])
            fail_msg("%lld -> %s -> %lld", (long long)values[i], buf, (long long)back);
    }
    /* The clocks move forward. */
    int64_t a = am_mono_us();
    usleep(2000);
    assert_true(am_mono_us() - a >= 2000);
    assert_true(am_now_us() > 1735689600000000LL); /* after 2025-01-01 */
}

/* ------------------------------------------------------------- JSON */

static int parse(const char *s, size_t max, json_t **out, char *why)
{
    return am_json_parse_object(s, strlen(s), max, out, why, 200);
}

static void test_json_parse_valid(void **state)
{
    (void)state;
    json_t *v = NULL;
    char why[200] = "";
    const char *doc =
        "{\"name\":\"ⵜⴰⵎⴰⵣⵉⵖⵜ\",\"city\":\"الرباط\",\"n\":3,\"list\":[1,{\"a\":null}]}";
    assert_int_equal(parse(doc, 0, &v, why), 0);
    assert_true(json_is_object(v));
    assert_string_equal(json_string_value(json_object_get(v, "name")), "ⵜⴰⵎⴰⵣⵉⵖⵜ");
    assert_string_equal(json_string_value(json_object_get(v, "city")), "الرباط");
    assert_int_equal(json_integer_value(json_object_get(v, "n")), 3);
    json_decref(v);

    assert_int_equal(parse("{}", 0, &v, why), 0);
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
    assert_int_equal(parse(" \n{ } \n", 0, &v, why), 0);
    json_decref(v);

    /* Only `len` bytes are read: trailing bytes past it are not seen. */
    const char *longer = "{\"a\":1}garbage";
    assert_int_equal(am_json_parse_object(longer, 7, 0, &v, why, sizeof(why)), 0);
    json_decref(v);
}

static void expect_refused(const char *doc, size_t len, int code, const char *why_part)
{
    json_t *v = (json_t *)1;
    char why[200] = "";
    int rc = am_json_parse_object(doc, len, 1 << 20, &v, why, sizeof(why));
    if (rc != code)
        fail_msg("'%.60s': expected %s, got %s", doc, am_strerror(code), am_strerror(rc));
    assert_null(v);
    assert_true(strlen(why) > 0);
    if (why_part && !strstr(why, why_part))
        fail_msg("'%.60s': reason '%s' lacks '%s'", doc, why, why_part);
}

static void test_json_parse_refused(void **state)
{
    (void)state;
    /* Anything but an object at the top level. */
    expect_refused("[]", 2, AM_EINVAL, NULL);
    expect_refused("[{\"a\":1}]", 9, AM_EINVAL, NULL);
    expect_refused("\"a string\"", 10, AM_EINVAL, NULL);
    expect_refused("42", 2, AM_EINVAL, NULL);
    expect_refused("null", 4, AM_EINVAL, NULL);
    expect_refused("true", 4, AM_EINVAL, NULL);
    /* Malformed. */
    expect_refused("{", 1, AM_EINVAL, "malformed");
    expect_refused("{\"a\":}", 6, AM_EINVAL, "malformed");
    expect_refused("{\"a\":1,}", 8, AM_EINVAL, "malformed");
    expect_refused("{'a':1}", 7, AM_EINVAL, "malformed");
    expect_refused("{\"a\":1}{}", 9, AM_EINVAL, "malformed");
    expect_refused("{\"a\":1} x", 9, AM_EINVAL, "malformed");
    expect_refused("{\"a\":\"\\u0000\"}", 14, AM_EINVAL, NULL);
    expect_refused("{\"a\":\"\\ud800\"}", 14, AM_EINVAL, NULL);
    /* Duplicate keys. */
    expect_refused("{\"a\":1,\"a\":2}", 13, AM_EINVAL, NULL);
    expect_refused("{\"o\":{\"k\":1,\"k\":1}}", 19, AM_EINVAL, NULL);
    /* Invalid UTF-8, in a value or a key, and a raw NUL byte. */
    expect_refused("{\"a\":\"\xc0\xaf\"}", 10, AM_EINVAL, "UTF-8");
    expect_refused("{\"\xed\xa0\x80\":1}", 9, AM_EINVAL, "UTF-8");
    expect_refused("{\"a\":\"x\0y\"}", 11, AM_EINVAL, NULL);
    /* Empty. */
    expect_refused("", 0, AM_EINVAL, "empty");
    expect_refused("   ", 3, AM_EINVAL, NULL);
}

/*
 * Builds {"a": [[...]]} or {"a": {"k": {...}}} with `depth` containers in all,
 * the top object included; the innermost container holds `leaf` ("" for none).
 */
static char *nested(int depth, char open, const char *leaf)
{
    struct am_buf b;
    am_buf_init(&b, 0);
    char close = open == '{' ? '}' : ']';
    assert_int_equal(am_buf_printf(&b, "{\"a\":"), 0);
    for (int i = 1; i < depth; i++) {
        if (open == '{' && i > 1)
            assert_int_equal(am_buf_printf(&b, "\"k\":"), 0);
        assert_int_equal(am_buf_append(&b, &open, 1), 0);
    }
    if (depth == 1)
        assert_int_equal(am_buf_printf(&b, "1"), 0);
    else if (*leaf)
        assert_int_equal(am_buf_printf(&b, open == '{' ? "\"k\":%s" : "%s", leaf), 0);
    for (int i = 1; i < depth; i++)
        assert_int_equal(am_buf_append(&b, &close, 1), 0);
    assert_int_equal(am_buf_printf(&b, "}"), 0);
    return am_buf_steal(&b);
}

static void test_json_depth(void **state)
{
    (void)state;
    json_t *v = NULL;
    char why[200];
    /*
     * Depth counts containers: 32 nested arrays or objects are fine whether
     * the innermost one is empty or holds a value, 33 are not.
     */
    static const struct {
        char open;
        const char *leaf;
    } shapes[] = {{'[', ""}, {'[', "1"}, {'[', "\"x\""}, {'{', ""}, {'{', "1"}, {'{', "null"}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char *ok = nested(AM_JSON_MAX_DEPTH, shapes[i].open, shapes[i].leaf);
        char *deep = nested(AM_JSON_MAX_DEPTH + 1, shapes[i].open, shapes[i].leaf);
        char head[48];
        am_strlcpy(head, ok, sizeof(head));
        int rc = parse(ok, 0, &v, why);
        json_decref(v);
        free(ok);
        if (rc) {
            free(deep);
            fail_msg("%d levels refused (%s): %s...", AM_JSON_MAX_DEPTH, why, head);
        }
        expect_refused(deep, strlen(deep), AM_EINVAL, "deeper");
        free(deep);
    }
    char *very_deep = nested(5000, '[', "");
    expect_refused(very_deep, strlen(very_deep), AM_EINVAL, "deeper");
    free(very_deep);

    /* Brackets inside strings do not count as nesting. */
    char *brackets = malloc(4096);
    assert_non_null(brackets);
    int n = snprintf(brackets, 4096, "{\"s\":\"");
    for (int i = 0; i < 100; i++)
        brackets[n++] = '[';
    memcpy(brackets + n, "\\\"{\"}", 6);
    assert_int_equal(parse(brackets, 0, &v, why), 0);
    json_decref(v);

    free(brackets);
}

static void test_json_size_limit(void **state)
{
    (void)state;
    json_t *v = NULL;
    char why[200] = "";
    const char *doc = "{\"k\":\"0123456789\"}"; /* 18 bytes */
    assert_int_equal(am_json_parse_object(doc, 18, 18, &v, why, sizeof(why)), 0);
    json_decref(v);
    v = (json_t *)1;
    assert_int_equal(am_json_parse_object(doc, 18, 17, &v, why, sizeof(why)), AM_ETOOBIG);
    assert_null(v);
    assert_non_null(strstr(why, "17"));
    /* The limit is checked before anything else: even garbage is "too big". */
    assert_int_equal(am_json_parse_object("\xff\xff\xff", 3, 2, &v, why, sizeof(why)), AM_ETOOBIG);
    /* 0 means no limit. */
    assert_int_equal(am_json_parse_object(doc, 18, 0, &v, why, sizeof(why)), 0);
    json_decref(v);
}

static void test_json_only_keys(void **state)
{
    (void)state;
    static const char *const allowed[] = {"name", "role", "display_name", NULL};
    static const char *const none[] = {NULL};
    char why[200] = "";
    json_t *ok = json_pack("{ss ss}", "name", "amina", "role", "patrol");
    json_t *bad = json_pack("{ss ss}", "name", "amina", "is_admin", "yes");
    json_t *empty = json_object();
    assert_int_equal(am_json_only_keys(ok, allowed, why, sizeof(why)), 0);
    assert_int_equal(am_json_only_keys(empty, allowed, why, sizeof(why)), 0);
    assert_int_equal(am_json_only_keys(empty, none, why, sizeof(why)), 0);
    assert_int_equal(am_json_only_keys(bad, allowed, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "is_admin"));
    assert_int_equal(am_json_only_keys(ok, none, why, sizeof(why)), AM_EINVAL);
    /* Prefixes of allowed names are not allowed names. */
    json_t *prefix = json_pack("{si}", "nam", 1);
    assert_int_equal(am_json_only_keys(prefix, allowed, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "nam"));
    json_decref(ok);
    json_decref(bad);
    json_decref(empty);
    json_decref(prefix);
}

static void test_json_canonical(void **state)
{
    (void)state;
    json_t *a = json_pack("{si ss s{si si} s[ib]}", "zeta", 1, "alpha", "الرباط", "mid", "y", 2,
                          "x", 1, "arr", 3, 1);
    json_t *b = json_pack("{s[ib] s{si si} ss si}", "arr", 3, 1, "mid", "x", 1, "y", 2, "alpha",
                          "الرباط", "zeta", 1);
    assert_non_null(a);
    assert_non_null(b);
    char *ca = am_json_canonical(a);
    char *cb = am_json_canonical(b);
    char *ca2 = am_json_canonical(a);
    assert_string_equal(ca, "{\"alpha\":\"الرباط\",\"arr\":[3,true],\"mid\":{\"x\":1,\"y\":2},"
                            "\"zeta\":1}");
    /* The same value built in another order has the same bytes, every time. */
    assert_string_equal(ca, cb);
    assert_string_equal(ca, ca2);
    free(ca);
    free(cb);
    free(ca2);

    /* Integers exact, reals with 17 significant digits, non-objects allowed. */
    json_t *n = json_pack("{sI sf}", "big", (json_int_t)9007199254740993LL, "r", 0.1);
    char *cn = am_json_canonical(n);
    assert_string_equal(cn, "{\"big\":9007199254740993,\"r\":0.10000000000000001}");
    free(cn);
    json_t *s = json_string("x");
    char *cs = am_json_canonical(s);
    assert_string_equal(cs, "\"x\"");
    free(cs);
    json_decref(a);
    json_decref(b);
    json_decref(n);
    json_decref(s);
}

/* ------------------------------------------------------------- config */

static void test_config_defaults(void **state)
{
    (void)state;
    struct am_config c;
    memset(&c, 0x5a, sizeof(c));
    am_config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.workers, 16);
    assert_true(c.body_limit == 1024 * 1024);
    assert_string_equal(c.tls_cert, "");
    assert_string_equal(c.tls_key, "");
    /* The build's defaults point at this source tree's web/ and data/. */
    assert_true(strlen(c.web_root) >= 4 && !strcmp(c.web_root + strlen(c.web_root) - 4, "/web"));
    assert_true(strlen(c.data_dir) >= 5 &&
                !strcmp(c.data_dir + strlen(c.data_dir) - 5, "/data"));
    assert_string_equal(c.db_path, "var/amane.db");
    assert_int_equal(c.readers, 4);
    assert_int_equal(c.max_batch, 512);
    assert_string_equal(c.synchronous, "full");
    assert_true(c.token_ttl_s == 12 * 3600);
    assert_int_equal(c.lockout_threshold, 5);
    assert_true(c.lockout_s == 15 * 60);
    assert_int_equal(c.stream_ring, 65536);
    assert_string_equal(c.log_level, "info");
}

static void test_config_parse(void **state)
{
    (void)state;
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    const char *ini = "; amane.conf\n"
                      "[server]\n"
                      "listen = 0.0.0.0\n"
                      "port = 9443\n"
                      "body_limit = 2048\n"
                      "tls_cert = /etc/amane/cert.pem\n"
                      "\n"
                      "[store]\n"
                      "path = /var/lib/amane/amane.db\n"
                      "synchronous = normal\n"
                      "max_batch = 1\n"
                      "[auth]\n"
                      "lockout_threshold = 7\n"
                      "lockout_seconds = 60\n"
                      "[log]\n"
                      "level = debug\n";
    assert_int_equal(am_config_parse(&c, ini, strlen(ini), why, sizeof(why)), 0);
    assert_string_equal(c.listen, "0.0.0.0");
    assert_int_equal(c.port, 9443);
    assert_true(c.body_limit == 2048);
    assert_string_equal(c.tls_cert, "/etc/amane/cert.pem");
    assert_string_equal(c.db_path, "/var/lib/amane/amane.db");
    assert_string_equal(c.synchronous, "normal");
    assert_int_equal(c.max_batch, 1);
    assert_int_equal(c.lockout_threshold, 7);
    assert_true(c.lockout_s == 60);
    assert_string_equal(c.log_level, "debug");
    /* Untouched keys keep their defaults. */
    assert_int_equal(c.workers, 16);
    assert_int_equal(c.readers, 4);

    /* The text need not be NUL-terminated: only `len` bytes are read. */
    am_config_defaults(&c);
    const char *cut = "[server]\nport = 1234\nport = oops";
    assert_int_equal(am_config_parse(&c, cut, 20, why, sizeof(why)), 0);
    assert_int_equal(c.port, 1234);
}

static void expect_config_error(const char *ini, const char *const *parts)
{
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    int rc = am_config_parse(&c, ini, strlen(ini), why, sizeof(why));
    if (rc != AM_EINVAL)
        fail_msg("accepted: %s", ini);
    for (const char *const *p = parts; *p; p++) {
        if (!strstr(why, *p))
            fail_msg("reason '%s' lacks '%s'", why, *p);
    }
}

static void test_config_refuses_unknown_and_bad(void **state)
{
    (void)state;
    expect_config_error("[server]\nprot = 80\n",
                        (const char *const[]){"line 2", "server.prot", NULL});
    expect_config_error("[sever]\nport = 80\n",
                        (const char *const[]){"line 2", "sever.port", NULL});
    expect_config_error("port = 80\n", (const char *const[]){"line 1", "port", NULL});
    expect_config_error("[server]\nlisten = ::\nport = 65536\n",
                        (const char *const[]){"line 3", "server.port", "65536", NULL});
    expect_config_error("[server]\nport = -1\n", (const char *const[]){"server.port", "-1", NULL});
    expect_config_error("[server]\nport = 80x\n",
                        (const char *const[]){"server.port", "80x", NULL});
    expect_config_error("[server]\nport =\n", (const char *const[]){"server.port", NULL});
    expect_config_error("[server]\nworkers = 0\n", (const char *const[]){"server.workers", NULL});
    expect_config_error("[server]\nbody_limit = 1023\n",
                        (const char *const[]){"server.body_limit", "1023", NULL});
    expect_config_error("[store]\nsynchronous = fast\n",
                        (const char *const[]){"store.synchronous", "fast", NULL});
    expect_config_error("[log]\nlevel = verbose\n",
                        (const char *const[]){"log.level", "verbose", NULL});
    expect_config_error("[auth]\nlockout_threshold = 0\n",
                        (const char *const[]){"auth.lockout_threshold", NULL});
    expect_config_error("[server]\nport 80\n", (const char *const[]){"line 2", NULL});
    expect_config_error("[server\nport = 80\n", (const char *const[]){"line 1", NULL});

    /* A string longer than its field is refused, not cut. */
    char ini[700];
    int n = snprintf(ini, sizeof(ini), "[server]\nlisten = ");
    memset(ini + n, 'a', 100);
    memcpy(ini + n + 100, "\n", 2);
    expect_config_error(ini, (const char *const[]){"server.listen", NULL});

    /* Not text, and too large. */
    struct am_config c;
    am_config_defaults(&c);
    char why[256];
    assert_int_equal(am_config_parse(&c, "[server]\0port = 1\n", 18, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(am_config_parse(&c, "[log]\nlevel = \xff\n", 15, why, sizeof(why)), AM_EINVAL);
    size_t big = 64 * 1024 + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '\n', big);
    assert_int_equal(am_config_parse(&c, huge, big, why, sizeof(why)), AM_ETOOBIG);
    free(huge);
    assert_int_equal(c.port, 8080);

    /* am_config_set names the key too. */
    assert_int_equal(am_config_set(&c, "server", "nope", "1", why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "server.nope"));
}

/*
 * inih reads on past a syntax error; the reason given must still belong to
 * the line named (the first error), not to a later bad setting.
 */
static void test_config_error_names_the_right_line(void **state)
{
    (void)state;
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    const char *setting_first = "[server]\nprot = 1\nport 80\n";
    assert_int_equal(am_config_parse(&c, setting_first, strlen(setting_first), why, sizeof(why)),
                     AM_EINVAL);
    assert_non_null(strstr(why, "line 2"));
    assert_non_null(strstr(why, "server.prot"));

    const char *syntax_first = "[server]\nport 80\nprot = 1\n";
    assert_int_equal(am_config_parse(&c, syntax_first, strlen(syntax_first), why, sizeof(why)),
                     AM_EINVAL);
    if (!strstr(why, "line 2") || strstr(why, "prot"))
        fail_msg("line 2 is a syntax error and line 3 names server.prot, but the reason is '%s'",
                 why);
}

/* A key set twice, or an indented line that inih would append to the key above, is refused. */
static void test_config_key_set_twice(void **state)
{
    (void)state;
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    const char *twice = "[server]\nport = 1\nport = 2\n";
    assert_int_equal(am_config_parse(&c, twice, strlen(twice), why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "line 3"));
    assert_non_null(strstr(why, "server.port is set twice"));
    const char *continued = "[server]\nweb_root = /srv\n  tls_cert = x\n";
    am_config_defaults(&c);
    assert_int_equal(am_config_parse(&c, continued, strlen(continued), why, sizeof(why)),
                     AM_EINVAL);
    assert_non_null(strstr(why, "server.web_root is set twice"));
    const char *ok = "[server]\nport = 1\n[store]\npath = x.db\n";
    am_config_defaults(&c);
    assert_int_equal(am_config_parse(&c, ok, strlen(ok), why, sizeof(why)), 0);
    assert_int_equal(c.port, 1);
}

/*
 * Paths may be up to 511 bytes. A long value in the file is either taken
 * whole or refused with a reason naming its own line; never cut short.
 */
static void test_config_long_value(void **state)
{
    (void)state;
    char ini[600];
    int n = snprintf(ini, sizeof(ini), "[store]\npath = /");
    memset(ini + n, 'p', 300);
    memcpy(ini + n + 300, "\n", 2);
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    int rc = am_config_parse(&c, ini, strlen(ini), why, sizeof(why));
    if (rc == 0 && strlen(c.db_path) != 301)
        fail_msg("store.path accepted but cut to %zu bytes", strlen(c.db_path));
    if (rc != 0 && !strstr(why, "line 2"))
        fail_msg("a 308-byte line 2 refused as '%s'", why);
}

static void test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/amane-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *ini = "[server]\nport = 7000\n[store]\nreaders = 2\n";
    assert_int_equal(write(fd, ini, strlen(ini)), (ssize_t)strlen(ini));
    close(fd);

    struct am_config c;
    am_config_defaults(&c);
    char why[512] = "";
    assert_int_equal(am_config_load_file(&c, path, why, sizeof(why)), 0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.readers, 2);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[server]\nport = 7001\nwokers = 3\n", f);
    fclose(f);
    assert_int_equal(am_config_load_file(&c, path, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "server.wokers"));
    assert_non_null(strstr(why, "line 3"));
    unlink(path);

    assert_int_equal(am_config_load_file(&c, path, why, sizeof(why)), AM_ENOTFOUND);
    assert_non_null(strstr(why, path));
}

static void test_config_precedence(void **state)
{
    (void)state;
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    const char *ini = "[server]\nport = 9000\nworkers = 4\n[store]\nreaders = 3\n";
    assert_int_equal(am_config_parse(&c, ini, strlen(ini), why, sizeof(why)), 0);
    assert_int_equal(c.port, 9000);

    /* The environment overrides the file; other AMANE_* sections are not ours. */
    char *envp[] = {"PATH=/usr/bin",
                    "AMANE_SERVER_PORT=9001",
                    "AMANE_SERVER_BODY_LIMIT=4096",
                    "AMANE_FOO_BAR=1",
                    "AMANE_TEST_DB=/tmp/x.db",
                    "AMANE_=1",
                    "AMANE_NOUNDERSCORE=1",
                    "AMANE_AUTH_TOKEN_TTL=3600",
                    "SERVER_PORT=1",
                    NULL};
    assert_int_equal(am_config_apply_env(&c, envp, why, sizeof(why)), 0);
    assert_int_equal(c.port, 9001);
    assert_true(c.body_limit == 4096);
    assert_true(c.token_ttl_s == 3600);
    assert_int_equal(c.workers, 4); /* from the file */
    assert_int_equal(c.readers, 3); /* from the file */

    /* Arguments override the environment; the others are kept in order. */
    char a0[] = "amaned", a1[] = "--server.port=9002", a2[] = "serve", a3[] = "--verbose",
         a4[] = "--store.readers=5", a5[] = "--config=/etc/amane.conf", a6[] = "last";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
    int argc = 7;
    assert_int_equal(am_config_apply_args(&c, &argc, argv, why, sizeof(why)), 0);
    assert_int_equal(c.port, 9002);
    assert_int_equal(c.readers, 5);
    assert_int_equal(argc, 5);
    assert_string_equal(argv[0], "amaned");
    assert_string_equal(argv[1], "serve");
    assert_string_equal(argv[2], "--verbose");
    assert_string_equal(argv[3], "--config=/etc/amane.conf");
    assert_string_equal(argv[4], "last");
}

static void test_config_env_and_args_errors(void **state)
{
    (void)state;
    struct am_config c;
    am_config_defaults(&c);
    char why[256] = "";
    char *bad_key[] = {"AMANE_SERVER_PROT=1", NULL};
    assert_int_equal(am_config_apply_env(&c, bad_key, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "AMANE_SERVER_PROT"));
    char *bad_val[] = {"AMANE_SERVER_PORT=http", NULL};
    assert_int_equal(am_config_apply_env(&c, bad_val, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "AMANE_SERVER_PORT"));
    assert_non_null(strstr(why, "http"));
    assert_int_equal(c.port, 8080);

    char a0[] = "amaned", a1[] = "--server.port=99999";
    char *argv[] = {a0, a1, NULL};
    int argc = 2;
    assert_int_equal(am_config_apply_args(&c, &argc, argv, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "server.port"));
    assert_non_null(strstr(why, "99999"));
    char b1[] = "--server.nope=1";
    char *argv2[] = {a0, b1, NULL};
    argc = 2;
    assert_int_equal(am_config_apply_args(&c, &argc, argv2, why, sizeof(why)), AM_EINVAL);
    assert_non_null(strstr(why, "server.nope"));
    char c1[] = "--.port=1";
    char *argv3[] = {a0, c1, NULL};
    argc = 2;
    assert_int_equal(am_config_apply_args(&c, &argc, argv3, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(c.port, 8080);
}

/* ------------------------------------------------------------- roles, log levels */

static void test_roles(void **state)
{
    (void)state;
    static const char *const names[AM_ROLE_COUNT] = {
        "admin", "supervisor", "dispatcher", "patrol", "analyst", "examiner", "trainer", "trainee"};
    for (int i = 0; i < AM_ROLE_COUNT; i++) {
        assert_string_equal(am_role_name((enum am_role)i), names[i]);
        enum am_role r = AM_ROLE_COUNT;
        assert_int_equal(am_role_parse(names[i], &r), 0);
        assert_int_equal(r, i);
    }
    assert_null(am_role_name(AM_ROLE_COUNT));
    assert_null(am_role_name((enum am_role) - 1));
    enum am_role r = AM_ROLE_PATROL;
    assert_int_equal(am_role_parse("Admin", &r), AM_EINVAL);
    assert_int_equal(am_role_parse("admin ", &r), AM_EINVAL);
    assert_int_equal(am_role_parse("", &r), AM_EINVAL);
    assert_int_equal(am_role_parse("root", &r), AM_EINVAL);
    assert_int_equal(am_role_parse(NULL, &r), AM_EINVAL);
    assert_int_equal(r, AM_ROLE_PATROL);
    assert_int_equal(AM_ROLES_ALL, 0xff);

    enum am_log_level lv;
    assert_int_equal(am_log_parse_level("warn", &lv), 0);
    assert_int_equal(lv, AM_LOG_WARN);
    assert_int_equal(am_log_parse_level("WARN", &lv), AM_EINVAL);
}

/* ------------------------------------------------------------- pool */

struct counting {
    pthread_mutex_t mu;
    int runs;
    int order[64];
};

struct count_job {
    struct counting *c;
    int id;
};

static void count_fn(void *arg)
{
    struct count_job *j = arg;
    pthread_mutex_lock(&j->c->mu);
    if (j->c->runs < 64)
        j->c->order[j->c->runs] = j->id;
    j->c->runs++;
    pthread_mutex_unlock(&j->c->mu);
}

static void test_pool_runs_all_jobs(void **state)
{
    (void)state;
    struct am_pool *p = NULL;
    assert_int_equal(am_pool_new(&p, 0, 4), AM_EINVAL);
    assert_int_equal(am_pool_new(&p, 2, 0), AM_EINVAL);
    assert_int_equal(am_pool_new(&p, 3, 64), 0);
    struct counting c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct count_job jobs[1000];
    int submitted = 0;
    for (int i = 0; i < 1000; i++) {
        jobs[i] = (struct count_job){&c, i};
        int rc;
        /* The queue is bounded; wait for room instead of dropping jobs. */
        while ((rc = am_pool_submit(p, count_fn, &jobs[i])) == AM_EBUSY)
            usleep(100);
        assert_int_equal(rc, 0);
        submitted++;
    }
    /* Freeing runs what is still queued before joining. */
    am_pool_free(p);
    assert_int_equal(c.runs, submitted);
    am_pool_free(NULL);
}

struct blocker {
    sem_t started, release;
};

static void block_fn(void *arg)
{
    struct blocker *b = arg;
    sem_post(&b->started);
    sem_wait(&b->release);
}

static void test_pool_busy_when_full(void **state)
{
    (void)state;
    struct am_pool *p = NULL;
    assert_int_equal(am_pool_new(&p, 1, 3), 0);
    struct blocker b;
    sem_init(&b.started, 0, 0);
    sem_init(&b.release, 0, 0);
    struct counting c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct count_job jobs[5];
    for (int i = 0; i < 5; i++)
        jobs[i] = (struct count_job){&c, i};

    /* The only worker is held, so whatever follows stays queued. */
    assert_int_equal(am_pool_submit(p, block_fn, &b), 0);
    sem_wait(&b.started);
    assert_int_equal(am_pool_queued(p), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(am_pool_submit(p, count_fn, &jobs[i]), 0);
    assert_int_equal(am_pool_queued(p), 3);
    assert_int_equal(am_pool_submit(p, count_fn, &jobs[3]), AM_EBUSY);
    assert_int_equal(am_pool_submit(p, count_fn, &jobs[4]), AM_EBUSY);
    assert_int_equal(am_pool_queued(p), 3);
    assert_int_equal(c.runs, 0);

    sem_post(&b.release);
    am_pool_free(p);
    /* The three queued jobs ran, in FIFO order; the refused ones did not. */
    assert_int_equal(c.runs, 3);
    assert_int_equal(c.order[0], 0);
    assert_int_equal(c.order[1], 1);
    assert_int_equal(c.order[2], 2);
    sem_destroy(&b.started);
    sem_destroy(&b.release);
}

/* ------------------------------------------------------------- metrics */

static double gauge_fn(void *arg)
{
    return *(double *)arg;
}

static void test_metrics_render(void **state)
{
    (void)state;
    /* Registered metrics live for the whole process, as in amaned. */
    static struct am_counter requests = {"test_requests_total", "Requests seen.", NULL, 0, NULL};
    static struct am_counter ok = {"test_http_total", "Answers by class.", "code=\"2xx\"", 0, NULL};
    static struct am_counter err = {"test_http_total", "Answers by class.", "code=\"5xx\"", 0,
                                    NULL};
    static struct am_hist lat = {.name = "test_latency_seconds", .help = "Latency."};
    static double gauge_value = 42.5;
    am_counter_register(&requests);
    am_counter_register(&ok);
    am_counter_register(&err);
    am_hist_register(&lat);
    am_gauge_register("test_queue_depth", "Queue depth.", gauge_fn, &gauge_value);

    am_counter_add(&requests, 3);
    am_counter_add(&requests, 2);
    am_counter_add(&ok, 7);
    am_hist_observe(&lat, 50);      /* <= 100 us */
    am_hist_observe(&lat, 100);     /* <= 100 us, bounds are inclusive */
    am_hist_observe(&lat, 300);     /* <= 500 us */
    am_hist_observe(&lat, 2000000); /* past 1 s: +Inf only */

    struct am_buf out;
    am_buf_init(&out, 0);
    assert_int_equal(am_metrics_render(&out), 0);
    const char *t = out.data;
    assert_non_null(t);
    static const char *const expect[] = {
        "# TYPE test_requests_total counter\n",
        "\ntest_requests_total 5\n",
        "\ntest_http_total{code=\"2xx\"} 7\n",
        "\ntest_http_total{code=\"5xx\"} 0\n",
        "# TYPE test_latency_seconds histogram\n",
        "\ntest_latency_seconds_bucket{le=\"0.0001\"} 2\n",
        "\ntest_latency_seconds_bucket{le=\"0.00025\"} 2\n",
        "\ntest_latency_seconds_bucket{le=\"0.0005\"} 3\n",
        "\ntest_latency_seconds_bucket{le=\"1\"} 3\n",
        "\ntest_latency_seconds_bucket{le=\"+Inf\"} 4\n",
        "\ntest_latency_seconds_count 4\n",
        "\ntest_latency_seconds_sum 2.000450\n",
        "# TYPE test_queue_depth gauge\ntest_queue_depth 42.5\n",
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        if (!strstr(t, expect[i]))
            fail_msg("metrics lack '%s':\n%s", expect[i], t);
    }
    /* Counters sharing a name share one header. */
    const char *first = strstr(t, "# HELP test_http_total ");
    assert_non_null(first);
    assert_null(strstr(first + 1, "# HELP test_http_total "));
    /* Buckets are cumulative: counts never decrease along the list. */
    unsigned long long prev = 0;
    int buckets = 0;
    for (const char *p = t; (p = strstr(p, "test_latency_seconds_bucket{")); p++) {
        const char *sp = strchr(p, ' ');
        assert_non_null(sp);
        unsigned long long v = strtoull(sp + 1, NULL, 10);
        assert_true(v >= prev);
        prev = v;
        buckets++;
    }
    assert_int_equal(buckets, AM_HIST_BUCKETS);
    am_buf_release(&out);
}

int main(void)
{
    am_log_set_level(AM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_strlcpy_truncates_and_terminates),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_hex_id_sha256),
        cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_buf_max_and_steal),
        cmocka_unit_test(test_time_fmt),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_json_parse_valid),
        cmocka_unit_test(test_json_parse_refused),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_json_size_limit),
        cmocka_unit_test(test_json_only_keys),
        cmocka_unit_test(test_json_canonical),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_parse),
        cmocka_unit_test(test_config_refuses_unknown_and_bad),
        cmocka_unit_test(test_config_error_names_the_right_line),
        cmocka_unit_test(test_config_key_set_twice),
        cmocka_unit_test(test_config_long_value),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_config_env_and_args_errors),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_pool_runs_all_jobs),
        cmocka_unit_test(test_pool_busy_when_full),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
