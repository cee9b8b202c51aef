/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_plate.c - fuzzes the identifiers of the records module: plate_parse()
 * and plate_variants(), cin_parse() and cin_parse_partial(), and
 * records_phone_parse(). The first byte chooses the country given with the
 * plate (none, "MA", "fr", "ES", a bad one) and how many variants are asked
 * for; the rest is the text, any bytes.
 *
 * A plate parsed must have a non-empty printable ASCII key that parses
 * again, with no country, to the same key, kind and country, and a display
 * that parses to the same key with the plate's country; input past
 * PLATE_INPUT_MAX must be AM_ETOOBIG. The variants must be at most `max`,
 * the plate as written first at score 1 when it parses, scores in (0, 1]
 * and not increasing, no key twice, each key a plate key that parses to
 * itself. A CIN or a phone number parsed must have its normal form and
 * parse to itself. Any failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "records/plate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_plate: %s\n", what);
    abort();
}

static void check_key(const char *key)
{
    size_t n = strnlen(key, REC_PLATE_KEY_SZ);
    if (n == 0 || n >= REC_PLATE_KEY_SZ)
        fail("a key empty or not terminated");
    for (size_t i = 0; i < n; i++)
        if (key[i] <= 0x20 || key[i] >= 0x7f)
            fail("a key that is not printable ASCII");
    struct plate again;
    if (plate_parse(key, n, NULL, &again, NULL, 0))
        fail("a key does not parse");
    if (strcmp(again.key, key) != 0)
        fail("a key parses to another key");
}

static void check_plate(const char *text, size_t len, const char *country)
{
    struct plate p;
    char why[160] = "";
    int rc = plate_parse(text, len, country, &p, why, sizeof(why));
    if (len > PLATE_INPUT_MAX) {
        if (rc != AM_ETOOBIG)
            fail("a plate past the limit was not refused");
        return;
    }
    if (rc == AM_EINVAL) {
        if (!why[0] || strnlen(why, sizeof(why)) == sizeof(why))
            fail("a refusal without a reason");
        return;
    }
    if (rc)
        fail("plate_parse returned an unexpected code");
    check_key(p.key);
    struct plate again;
    if (plate_parse(p.key, strlen(p.key), NULL, &again, NULL, 0) || again.kind != p.kind ||
        strcmp(again.country, p.country) != 0)
        fail("a key parses to another kind or country");
    if (strnlen(p.display, sizeof(p.display)) == sizeof(p.display) ||
        !am_utf8_valid(p.display, strlen(p.display)))
        fail("a display not terminated or not UTF-8");
    if (plate_parse(p.display, strlen(p.display), p.country, &again, NULL, 0) ||
        strcmp(again.key, p.key) != 0)
        fail("a display does not parse to its key");
    if (strlen(p.country) != 2 || (p.kind == REC_PLATE_FOREIGN) != (strcmp(p.country, "MA") != 0))
        fail("a plate's country does not match its kind");
    if ((p.kind == REC_PLATE_FOREIGN) != (strncmp(p.key, "F:", 2) == 0))
        fail("a foreign key without F:, or the other way round");
}

static void check_variants(const char *text, size_t len, const char *country, size_t max)
{
    struct plate_variant v[64];
    size_t n = 99;
    int rc = plate_variants(text, len, country, v, max, &n);
    if (len > PLATE_INPUT_MAX) {
        if (rc != AM_ETOOBIG || n != 0)
            fail("variants past the limit were not refused");
        return;
    }
    if (rc || n > max)
        fail("more variants than max, or an error");
    struct plate p;
    bool parses = plate_parse(text, len, country, &p, NULL, 0) == 0;
    if (parses && max > 0 &&
        (n == 0 || strcmp(v[0].key, p.key) != 0 || v[0].score != 1.0 || v[0].substitutions))
        fail("the plate as written is not the first variant");
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].score > 0 && v[i].score <= 1.0) || v[i].substitutions < 0 ||
            v[i].substitutions > 2)
            fail("a variant's score or substitutions out of range");
        if (i && v[i - 1].score < v[i].score)
            fail("variants not best first");
        if (!parses && v[i].score == 1.0)
            fail("a score of 1 for a plate that does not parse as written");
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i].key, v[j].key) == 0)
                fail("a key twice among the variants");
        check_key(v[i].key);
    }
}

static void check_cin(const char *text, size_t len)
{
    char out[REC_CIN_SZ], again[REC_CIN_SZ];
    if (cin_parse(text, len, out, NULL, 0) == 0) {
        size_t n = strnlen(out, sizeof(out)), i = 0;
        if (n == sizeof(out))
            fail("a CIN not terminated");
        while (i < n && out[i] >= 'A' && out[i] <= 'Z')
            i++;
        size_t letters = i;
        while (i < n && out[i] >= '0' && out[i] <= '9')
            i++;
        if (i != n || letters < 1 || letters > 2 || n - letters < 1 || n - letters > 8)
            fail("a CIN not in its normal form");
        if (cin_parse(out, n, again, NULL, 0) || strcmp(out, again) != 0)
            fail("a CIN does not parse to itself");
    }
    int digits_only;
    if (cin_parse_partial(text, len, out, &digits_only, NULL, 0) == 0) {
        size_t n = strnlen(out, sizeof(out));
        int d2;
        if (n < 3 || n == sizeof(out))
            fail("a partial CIN shorter than 3");
        if (cin_parse_partial(out, n, again, &d2, NULL, 0) || strcmp(out, again) != 0 ||
            d2 != digits_only || (digits_only && (out[0] < '0' || out[0] > '9')))
            fail("a partial CIN does not parse to itself");
    }
}

static void check_phone(const char *text, size_t len)
{
    char out[REC_PHONE_SZ], again[REC_PHONE_SZ];
    if (records_phone_parse(text, len, out, NULL, 0))
        return;
    size_t n = strnlen(out, sizeof(out));
    if (n == sizeof(out) || out[0] != '+' || n < 9 || n > 16)
        fail("a phone not in E.164");
    for (size_t i = 1; i < n; i++)
        if (out[i] < '0' || out[i] > '9')
            fail("a phone with a non-digit");
    if (records_phone_parse(out, n, again, NULL, 0) || strcmp(out, again) != 0)
        fail("a phone does not parse to itself");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const countries[] = {NULL, "MA", "fr", "ES", "F1", "", "ma", "DE"};
    if (size == 0)
        return 0;
    const char *country = countries[data[0] & 7];
    size_t max = (size_t)(data[0] >> 3) * 2 + 1; /* 1 to 63 */
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    check_plate(text, len, country);
    check_variants(text, len, country, max);
    check_cin(text, len);
    check_phone(text, len);
    return 0;
}
