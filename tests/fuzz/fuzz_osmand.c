/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_osmand.c - fuzzes avl_osmand_decode(), the OsmAnd (Traccar Client)
 * HTTP decoder, with arbitrary requests.
 *
 * Input: byte 0 chooses the shape of the request, the rest is its text.
 *   byte0 & 3 == 0: the rest is the query string (up to a NUL), no body;
 *   byte0 & 3 == 1: the rest is a body, Content-Type x-www-form-urlencoded;
 *   byte0 & 3 == 2: the rest is a body, Content-Type application/json;
 *   byte0 & 3 == 3: the rest up to the first '\n' is the query (up to a
 *   NUL), after it the body, whose Content-Type is chosen by
 *   (byte0 >> 2) % 5: none, form, text/plain, JSON, multipart (refused).
 * The server's clock is fixed at 2023-11-14T22:15:00Z (1700000100 s).
 *
 * It asserts: (1) the code is 0, AM_EINVAL or AM_ETOOBIG, AM_ETOOBIG
 * exactly when query and body exceed 64 KiB; (2) a refusal leaves no
 * attributes and gives a one-line UTF-8 reason; (3) an accepted fix passes
 * avl_fix_check(), has a speed and heading unknown or in range, and its
 * attributes are at most AVL_MAX_ATTRS, keys of 1-32 [A-Za-z0-9_.-] and
 * values that are booleans, finite numbers or UTF-8 strings of at most 256
 * bytes; (4) decoding is deterministic, and works without a reason buffer;
 * (5) a query alone and the same text as a form body decode alike (unless it
 * ends in the blanks a body may lose); (6) an accepted fix from a query or
 * a form, written back as a query string by a plain encoder here (every byte but the unreserved
 * ones percent-encoded, time in RFC 3339, speed in knots), decodes to the same fix. Any failed
 * check is abort().
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
#define MAX_INPUT (64 * 1024)

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_osmand: %s\n", what);
    abort();
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool same_fix(const struct avl_fix *a, const struct avl_fix *b)
{
    return strcmp(a->device, b->device) == 0 && a->time_us == b->time_us &&
           same_double(a->lat, b->lat) && same_double(a->lon, b->lon) &&
           same_double(a->speed_mps, b->speed_mps) && same_double(a->heading_deg, b->heading_deg) &&
           same_double(a->altitude_m, b->altitude_m) && same_double(a->accuracy_m, b->accuracy_m) &&
           a->satellites == b->satellites &&
           ((!a->attrs && !b->attrs) || json_equal(a->attrs, b->attrs));
}

static void check_refusal(int rc, const struct avl_fix *f, const char *why, size_t whysz)
{
    if (rc != AM_EINVAL && rc != AM_ETOOBIG)
        fail("unexpected error code");
    if (f->attrs)
        fail("a refusal must leave no attributes");
    if (!memchr(why, '\0', whysz) || why[0] == '\0')
        fail("a refusal must give a NUL-terminated reason");
    for (const char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fail("a reason must be one line");
    if (!am_utf8_valid(why, strlen(why)))
        fail("a reason must be UTF-8");
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static void check_fix(const struct avl_fix *f)
{
    char why[256];
    if (avl_fix_check(f, NOW_US, why, sizeof(why)) != 0)
        fail("an accepted fix fails avl_fix_check");
    if (!isnan(f->speed_mps) && !(f->speed_mps >= 0))
        fail("negative speed");
    if (!isnan(f->heading_deg) && !(f->heading_deg >= 0 && f->heading_deg <= 360))
        fail("heading out of range");
    if (f->satellites != -1)
        fail("OsmAnd has no satellite count");
    if (!f->attrs)
        return;
    if (!json_is_object(f->attrs) || json_object_size(f->attrs) == 0 ||
        json_object_size(f->attrs) > AVL_MAX_ATTRS)
        fail("attributes: not an object of 1 to AVL_MAX_ATTRS members");
    const char *k;
    json_t *v;
    json_object_foreach(f->attrs, k, v)
    {
        if (!key_ok(k))
            fail("attribute key out of its alphabet or length");
        if (json_is_string(v)) {
            size_t n = json_string_length(v);
            if (n > 256 || !am_utf8_valid(json_string_value(v), n))
                fail("attribute string too long or not UTF-8");
        } else if (json_is_real(v)) {
            if (!isfinite(json_real_value(v)))
                fail("attribute number not finite");
        } else if (!json_is_integer(v) && !json_is_boolean(v)) {
            fail("attribute of an unexpected type");
        }
    }
}

/* Appends s[0..n) with every byte but A-Z a-z 0-9 - . _ ~ as %XY. */
static int put_escaped(struct am_buf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[3] = {'%', hx[c >> 4], hx[c & 15]};
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        int rc = plain ? am_buf_append(b, &c, 1) : am_buf_append(b, e, 3);
        if (rc)
            return rc;
    }
    return 0;
}

static int put_param(struct am_buf *b, const char *key, const char *val)
{
    int rc = am_buf_printf(b, "%s%s=", b->len ? "&" : "", key);
    return rc ? rc : put_escaped(b, val, strlen(val));
}

/* An accepted fix as a query string, the way a plain client would write it. */
static char *encode(const struct avl_fix *f)
{
    struct am_buf b;
    char num[64], t[AM_TIME_BUFSZ];
    am_buf_init(&b, 0);
    int rc = put_param(&b, "id", f->device);
    rc = rc ? rc : put_param(&b, "timestamp", am_time_fmt(f->time_us, t, sizeof(t)));
    snprintf(num, sizeof(num), "%.17g", f->lat);
    rc = rc ? rc : put_param(&b, "lat", num);
    snprintf(num, sizeof(num), "%.17g", f->lon);
    rc = rc ? rc : put_param(&b, "lon", num);
    const struct {
        const char *key;
        double v;
    } opt[] = {{"speed", f->speed_mps / 0.514444},
               {"bearing", f->heading_deg},
               {"altitude", f->altitude_m},
               {"accuracy", f->accuracy_m}};
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]) && !rc; i++) {
        if (isnan(opt[i].v))
            continue;
        snprintf(num, sizeof(num), "%.17g", opt[i].v);
        rc = put_param(&b, opt[i].key, num);
    }
    const char *k;
    json_t *v;
    json_object_foreach(f->attrs, k, v)
    {
        if (rc)
            break;
        if (json_is_string(v))
            rc = put_param(&b, k, json_string_value(v));
        else if (json_is_boolean(v))
            rc = put_param(&b, k, json_is_true(v) ? "true" : "false");
        else {
            if (json_is_integer(v))
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            else
                snprintf(num, sizeof(num), "%.17g", json_real_value(v));
            rc = put_param(&b, k, num);
        }
    }
    if (rc)
        fail("cannot encode a fix");
    return am_buf_steal(&b);
}

/* The same fix, up to the speed's trip through knots and numbers' JSON type. */
static bool equivalent(const struct avl_fix *a, const struct avl_fix *b)
{
    if (strcmp(a->device, b->device) != 0 || a->time_us != b->time_us || a->lat != b->lat ||
        a->lon != b->lon || !same_double(a->heading_deg, b->heading_deg) ||
        !same_double(a->altitude_m, b->altitude_m) || !same_double(a->accuracy_m, b->accuracy_m))
        return false;
    if (isnan(a->speed_mps) != isnan(b->speed_mps) ||
        (!isnan(a->speed_mps) && fabs(a->speed_mps - b->speed_mps) > 1e-9 * (1 + a->speed_mps)))
        return false;
    if (json_object_size(a->attrs) != json_object_size(b->attrs))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(a->attrs, k, v)
    {
        json_t *w = json_object_get(b->attrs, k);
        if (!w)
            return false;
        if (json_is_number(v) ? !json_is_number(w) || json_number_value(v) != json_number_value(w)
                              : !json_equal(v, w))
            return false;
    }
    return true;
}

static const char *const body_types[] = {NULL, "application/x-www-form-urlencoded",
                                         "text/plain; charset=utf-8", "application/json",
                                         "multipart/form-data; boundary=x"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    /* The query is a C string, the body a byte range: copies of exact size keep ASan sharp. */
    char *query = NULL, *body = NULL;
    size_t blen = 0;
    const char *ct = NULL;
    const char *nl = memchr(rest, '\n', n);
    size_t qraw = (mode & 3) == 0 ? n : (mode & 3) == 3 ? (nl ? (size_t)(nl - rest) : n) : 0;
    if ((mode & 3) == 0 || (mode & 3) == 3) {
        query = malloc(qraw + 1);
        if (!query)
            return 0;
        memcpy(query, rest, qraw);
        query[qraw] = '\0';
    }
    if ((mode & 3) != 0) {
        size_t from = (mode & 3) == 3 ? (nl ? qraw + 1 : n) : 0;
        blen = n - from;
        body = malloc(blen ? blen : 1);
        if (!body) {
            free(query);
            return 0;
        }
        memcpy(body, rest + from, blen);
        ct = (mode & 3) == 1   ? body_types[1]
             : (mode & 3) == 2 ? body_types[3]
                               : body_types[(mode >> 2) % 5];
    }

    struct avl_fix f, again;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = avl_osmand_decode(query, body, blen, ct, NOW_US, &f, why, sizeof(why));
    size_t total = (query ? strlen(query) : 0) + blen;
    if ((rc == AM_ETOOBIG) != (total > MAX_INPUT))
        fail("AM_ETOOBIG must mean more than 64 KiB");
    if (rc)
        check_refusal(rc, &f, why, sizeof(why));
    else
        check_fix(&f);

    /* Deterministic, and the same without a reason buffer. */
    int rc2 = avl_osmand_decode(query, body, blen, ct, NOW_US, &again, NULL, 0);
    if (rc2 != rc || (rc == 0 && !same_fix(&f, &again)))
        fail("two decodings of one request differ");
    avl_fix_release(&again);

    /* A query alone and the same text as a form body are one request. */
    if ((mode & 3) == 0) {
        size_t qn = strlen(query);
        char last = qn ? query[qn - 1] : 'x';
        if (last != '\n' && last != '\r' && last != ' ' && last != '\t') {
            rc2 = avl_osmand_decode(NULL, query, qn, NULL, NOW_US, &again, NULL, 0);
            if (rc2 != rc || (rc == 0 && !same_fix(&f, &again)))
                fail("the query and the same form body decode differently");
            avl_fix_release(&again);
        }
    }

    /*
     * What was accepted, written back as a query, reads back the same. Not for JSON bodies: a
     * string there may read as a number or a boolean once it is a query parameter.
     */
    bool json_body = blen > 0 && ct == body_types[3];
    if (rc == 0 && !json_body) {
        char *q = encode(&f);
        rc2 = avl_osmand_decode(q, NULL, 0, NULL, NOW_US, &again, why, sizeof(why));
        if (rc2 != 0) {
            fprintf(stderr, "fuzz_osmand: re-encoded '%s' refused: %s\n", q, why);
            abort();
        }
        if (!equivalent(&f, &again)) {
            fprintf(stderr, "fuzz_osmand: re-encoded '%s' decodes to another fix\n", q);
            abort();
        }
        avl_fix_release(&again);
        free(q);
    }
    avl_fix_release(&f);
    free(query);
    free(body);
    return 0;
}
