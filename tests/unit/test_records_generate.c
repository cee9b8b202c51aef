/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_records_generate.c - the synthetic records (generate.c): the same
 * seed gives the same records in any order; CINs, plates and VINs are
 * unique over millions, across the tiers of their number spaces; names
 * hold only their script's letters, with real frequencies and the sex of
 * the given name; owners, stolen plates and wanted persons are records the
 * seed made; every record passes records_*_check unchanged. (How fast
 * records come is the benchmark's to say: bench/records.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "records/generate.h"
#include "records/plate.h"
#include "records/records.h"

#define SEED  20261129ULL
#define TODAY "2026-11-29"

/* ------------------------------------------------------------ helpers */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v[n] and returns how many values repeat the one before them. */
static size_t count_dups(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    size_t d = 0;
    for (size_t i = 1; i < n; i++)
        d += v[i] == v[i - 1];
    return d;
}

static int sorted_has(const uint64_t *v, size_t n, uint64_t x)
{
    return bsearch(&x, v, n, sizeof(*v), cmp_u64) != NULL;
}

/* A CIN as a number, one to one: letters (1-2) then digits without a leading zero. */
static uint64_t cin_pack(const char *cin)
{
    uint64_t l = 0, num = 0;
    size_t i = 0;
    for (; cin[i] >= 'A' && cin[i] <= 'Z'; i++)
        l = l * 27 + (uint64_t)(cin[i] - 'A' + 1);
    assert_true(i >= 1 && i <= 2);
    assert_true(cin[i] >= '1' && cin[i] <= '9');
    size_t nd = 0;
    for (; cin[i]; i++, nd++) {
        assert_true(cin[i] >= '0' && cin[i] <= '9');
        num = num * 10 + (uint64_t)(cin[i] - '0');
    }
    assert_true(nd >= 6 && nd <= 8);
    return l * 1000000000ULL + num;
}

/* 64-bit FNV-1a, then mixed: for sets of strings (a repeat is then checked by hand). */
static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h ^= h >> 31;
    return h * 0x9E3779B97F4A7C15ULL;
}

/* Every code point of s is an Arabic letter or a space (non-empty s). */
static int all_arabic(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (!am_utf8_valid(s, n))
        return 0;
    while (i < n) {
        uint32_t cp;
        size_t k = am_utf8_decode(s + i, n - i, &cp);
        if (!k || !(cp == ' ' || (cp >= 0x0621 && cp <= 0x064A)))
            return 0;
        i += k;
    }
    return 1;
}

/* Every code point of s is a Latin letter (accented or not), a space, '-' or '\''. */
static int all_latin(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (!am_utf8_valid(s, n))
        return 0;
    while (i < n) {
        uint32_t cp;
        size_t k = am_utf8_decode(s + i, n - i, &cp);
        int ok = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == ' ' || cp == '-' ||
                 cp == '\'' || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
        if (!k || !ok)
            return 0;
        i += k;
    }
    return 1;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Days since 1970 of "YYYY-MM-DD" (H. Hinnant's algorithm). */
static int64_t day_of(const char *s)
{
    assert_int_equal(strlen(s), 10);
    assert_true(s[4] == '-' && s[7] == '-');
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    y -= m <= 2;
    int64_t era = y / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* ------------------------------------------------------------ determinism */

static void test_deterministic(void **state)
{
    (void)state;
    struct records_gen a, b, c;
    records_gen_init(&a, SEED);
    records_gen_init(&b, SEED);
    records_gen_init(&c, SEED + 1);
    struct records_person pa, pb, pc;
    int same_cin = 0;
    for (int i = 0; i < 3000; i++) {
        records_gen_person(&a, &pa);
        records_gen_person(&b, &pb);
        records_gen_person(&c, &pc);
        assert_memory_equal(&pa, &pb, sizeof(pa));
        same_cin += strcmp(pa.cin, pc.cin) == 0;
        if (i % 7 == 0) {
            /* Any person alone, in any order, is the same person. */
            records_gen_person_at(SEED, i, &pb);
            assert_memory_equal(&pa, &pb, sizeof(pa));
        }
    }
    assert_true(same_cin < 5); /* another seed, other people */
    assert_int_equal(a.persons, 3000);

    struct records_vehicle va, vb;
    for (int i = 0; i < 3000; i++) {
        records_gen_vehicle(&a, 3000, &va);
        records_gen_vehicle(&b, 3000, &vb);
        assert_memory_equal(&va, &vb, sizeof(va));
        records_gen_vehicle_at(SEED, i, 3000, &vb);
        assert_memory_equal(&va, &vb, sizeof(va));
    }
    struct records_hotlist ha, hb;
    for (int i = 0; i < 3000; i++) {
        records_gen_hotlist(&a, 3000, 3000, &ha);
        records_gen_hotlist(&b, 3000, 3000, &hb);
        assert_memory_equal(&ha, &hb, sizeof(ha));
        records_gen_hotlist_at(SEED, i, 3000, 3000, NULL, &hb);
        assert_memory_equal(&ha, &hb, sizeof(ha));
    }
    assert_int_equal(a.vehicles, 3000);
    assert_int_equal(a.hotlist, 3000);
}

/* ------------------------------------------------------------ CINs */

static void test_cin_unique(void **state)
{
    (void)state;
    enum { N = 2000000 };
    uint64_t *v = malloc(sizeof(*v) * N);
    assert_non_null(v);
    struct records_gen g;
    records_gen_init(&g, SEED);
    struct records_person p;
    char cin[REC_CIN_SZ], norm[REC_CIN_SZ], why[128];
    for (int i = 0; i < N; i++) {
        records_gen_person(&g, &p);
        v[i] = cin_pack(p.cin);
        if (i % 997 == 0) {
            records_gen_cin(SEED, i, cin);
            assert_string_equal(cin, p.cin);
            assert_int_equal(cin_parse(p.cin, strlen(p.cin), norm, why, sizeof(why)), 0);
            assert_string_equal(norm, p.cin);
        }
    }
    assert_int_equal(count_dups(v, N), 0);

    /*
     * The first tier of numbers ends near 35.4 million persons: indexes on
     * both sides of it, with the first million, are still all different.
     */
    size_t n = 0;
    for (int64_t i = 0; i < 1000000; i++) {
        records_gen_cin(SEED, i, cin);
        v[n++] = cin_pack(cin);
    }
    for (int64_t i = 34800000; i < 35800000; i++) {
        records_gen_cin(SEED, i, cin);
        v[n++] = cin_pack(cin);
    }
    assert_int_equal(count_dups(v, n), 0);
    free(v);
}

/* ------------------------------------------------------------ plates and VINs */

static int vin_ok(const char *vin)
{
    static const char ok[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    static const int letter[26] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4,
                                   5, 0, 7, 0, 9, 2, 3, 4, 5, 6, 7, 8, 9};
    static const int weight[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
    if (strlen(vin) != 17)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!strchr(ok, vin[i]))
            return 0;
        sum += (vin[i] <= '9' ? vin[i] - '0' : letter[vin[i] - 'A']) * weight[i];
    }
    return vin[8] == (sum % 11 == 10 ? 'X' : '0' + sum % 11);
}

/* Parses a vehicle's plate as check.c does; returns the key's hash and checks the kind. */
static uint64_t plate_key_hash(const struct records_vehicle *v)
{
    struct plate pl;
    char why[128];
    const char *cc = strcmp(v->country, "MA") == 0 ? NULL : v->country;
    int rc = plate_parse(v->plate, strlen(v->plate), cc, &pl, why, sizeof(why));
    if (rc)
        print_error("plate '%s' (%s): %s\n", v->plate, v->country, why);
    assert_int_equal(rc, 0);
    assert_int_equal(pl.kind, v->plate_kind);
    if (pl.kind == REC_PLATE_MA || pl.kind == REC_PLATE_WW)
        assert_string_equal(pl.display, v->plate); /* written as plates show it */
    return str_hash(pl.key);
}

/* Plates and VINs of vehicles [from, from + n) are all different. */
static void check_vehicles_unique(int64_t from, size_t n, size_t *kinds)
{
    uint64_t *keys = malloc(sizeof(*keys) * n), *vins = malloc(sizeof(*vins) * n);
    assert_non_null(keys);
    assert_non_null(vins);
    struct records_vehicle v;
    for (size_t i = 0; i < n; i++) {
        records_gen_vehicle_at(SEED, from + (int64_t)i, 1000, &v);
        keys[i] = plate_key_hash(&v);
        vins[i] = str_hash(v.vin);
        if (!vin_ok(v.vin))
            print_error("VIN '%s'\n", v.vin);
        assert_true(vin_ok(v.vin));
        if (kinds)
            kinds[v.plate_kind]++;
    }
    /* A repeated 64-bit hash among a million would be a repeated plate or VIN. */
    assert_int_equal(count_dups(keys, n), 0);
    assert_int_equal(count_dups(vins, n), 0);
    free(keys);
    free(vins);
}

static void test_plates_vins_unique(void **state)
{
    (void)state;
    enum { N = 1000000 };
    size_t kinds[4] = {0};
    check_vehicles_unique(0, N, kinds);
    /* About 1 % WW, 0.5 % foreign, 0.2 % diplomatic plates. */
    assert_in_range(kinds[REC_PLATE_WW], N / 200, N / 60);
    assert_in_range(kinds[REC_PLATE_FOREIGN], N / 400, N / 120);
    assert_in_range(kinds[REC_PLATE_DIPLOMATIC], N / 1000, N / 300);
    /* Across the end of the first tier (18.2 million vehicles). */
    check_vehicles_unique(17700000, N, NULL);
}

/* ------------------------------------------------------------ persons */

static void test_persons_realistic(void **state)
{
    (void)state;
    enum { N = 300000 };
    uint64_t *name_sex = malloc(sizeof(*name_sex) * N);
    uint64_t *given_m = malloc(sizeof(*given_m) * N), *given_f = malloc(sizeof(*given_f) * N);
    uint64_t *family = malloc(sizeof(*family) * N);
    assert_non_null(name_sex);
    assert_non_null(given_m);
    assert_non_null(given_f);
    assert_non_null(family);
    size_t men = 0, women = 0, mohamed = 0, mohamed_like = 0, fatima = 0, aliases = 0;
    size_t foreign = 0, phones = 0, nfamily = 0, old = 0, ngm = 0, ngf = 0;
    struct records_person p;
    char e164[REC_PHONE_SZ], why[128];
    for (int i = 0; i < N; i++) {
        records_gen_person_at(SEED, i, &p);
        int male = strcmp(p.sex, "M") == 0;
        assert_true(male || strcmp(p.sex, "F") == 0);
        int arabic = p.given_ar[0] != '\0';
        /* Arabic names with every Latin one, or Latin only (some foreign residents). */
        assert_true(p.given_lat[0] && p.family_lat[0] && p.father_lat[0]);
        assert_true(all_latin(p.given_lat) && all_latin(p.family_lat) && all_latin(p.father_lat));
        if (arabic) {
            assert_true(all_arabic(p.given_ar) && all_arabic(p.family_ar) &&
                        all_arabic(p.father_ar));
            family[nfamily++] = str_hash(p.family_ar);
        } else {
            assert_true(!p.family_ar[0] && !p.father_ar[0]);
            assert_string_not_equal(p.nationality, "MAR");
        }
        /* One name, one sex. */
        name_sex[i] = (str_hash(arabic ? p.given_ar : p.given_lat) & ~1ULL) | (uint64_t)male;
        if (male) {
            if (arabic)
                given_m[ngm++] = str_hash(p.given_ar);
            men++;
            mohamed += strcmp(p.given_ar, "محمد") == 0;
            mohamed_like += starts_with(p.given_ar, "محمد");
        } else {
            if (arabic)
                given_f[ngf++] = str_hash(p.given_ar);
            women++;
            fatima += starts_with(p.given_ar, "فاطمة");
        }
        assert_true(p.naliases == 0 || p.naliases == 1);
        if (p.naliases) {
            aliases++;
            assert_true(all_latin(p.aliases[0]));
            assert_true(strchr(p.aliases[0], ' ') != NULL);
        }
        foreign += strcmp(p.nationality, "MAR") != 0;
        assert_int_equal(strlen(p.nationality), 3);

        size_t bl = strlen(p.birth_date);
        assert_true(bl == 10 || bl == 4);
        int y = (p.birth_date[0] - '0') * 1000 + (p.birth_date[1] - '0') * 100 +
                (p.birth_date[2] - '0') * 10 + (p.birth_date[3] - '0');
        assert_in_range(y, 1940, 2008);
        if (bl == 10)
            day_of(p.birth_date);
        old += y < 1960;
        assert_true(p.birth_place[0] != '\0' &&
                    am_utf8_valid(p.birth_place, strlen(p.birth_place)));

        assert_int_equal(p.naddresses, 1);
        assert_true(strlen(p.addresses[0]) > 10 && !strchr(p.addresses[0], ';'));
        assert_true(am_utf8_valid(p.addresses[0], strlen(p.addresses[0])));
        assert_in_range(p.nphones, 0, 2);
        for (int k = 0; k < p.nphones; k++) {
            assert_int_equal(
                records_phone_parse(p.phones[k], strlen(p.phones[k]), e164, why, sizeof(why)), 0);
            assert_string_equal(e164, p.phones[k]); /* already E.164 */
            assert_true(starts_with(p.phones[k], "+2125") || starts_with(p.phones[k], "+2126") ||
                        starts_with(p.phones[k], "+2127"));
            phones++;
        }
    }
    print_message("persons: %zu men, %zu women; Mohamed %.1f %% of men (%.1f %% with compounds), "
                  "Fatima %.1f %% of women; aliases %.1f %%; foreign %.2f %%; born before 1960 "
                  "%.1f %%; %.2f phones each\n",
                  men, women, 100.0 * mohamed / men, 100.0 * mohamed_like / men,
                  100.0 * fatima / women, 100.0 * aliases / N, 100.0 * foreign / N, 100.0 * old / N,
                  (double)phones / N);
    assert_in_range(men, N * 47 / 100, N * 53 / 100);
    assert_in_range(mohamed * 1000 / men, 80, 120);
    assert_in_range(mohamed_like * 1000 / men, 90, 140);
    assert_in_range(fatima * 1000 / women, 60, 120);
    assert_in_range(aliases * 1000 / N, 35, 65);
    assert_in_range(foreign * 10000 / N, 60, 140);

    /* No given name is both a man's and a woman's. */
    qsort(name_sex, N, sizeof(*name_sex), cmp_u64);
    for (size_t i = 1; i < N; i++)
        assert_false((name_sex[i] >> 1) == (name_sex[i - 1] >> 1) &&
                     name_sex[i] != name_sex[i - 1]);

    /* The tables are all in use: so many distinct names. */
    size_t dm = ngm - count_dups(given_m, ngm), df = ngf - count_dups(given_f, ngf);
    size_t dfam = nfamily - count_dups(family, nfamily);
    print_message("distinct: %zu men's, %zu women's given names, %zu family names\n", dm, df, dfam);
    assert_true(dm >= 150 && df >= 120 && dfam >= 300);
    free(name_sex);
    free(given_m);
    free(given_f);
    free(family);
}

/* ------------------------------------------------------------ references */

static void test_references(void **state)
{
    (void)state;
    enum { P = 50000, V = 40000, H = 20000 };
    uint64_t *cins = malloc(sizeof(*cins) * P);
    uint64_t *keys = malloc(sizeof(*keys) * V), *vin_of_key = malloc(sizeof(*vin_of_key) * V);
    uint64_t *seen = malloc(sizeof(*seen) * H);
    assert_non_null(cins);
    assert_non_null(keys);
    assert_non_null(vin_of_key);
    assert_non_null(seen);
    char cin[REC_CIN_SZ];
    for (int i = 0; i < P; i++) {
        records_gen_cin(SEED, i, cin);
        cins[i] = cin_pack(cin);
    }
    qsort(cins, P, sizeof(*cins), cmp_u64);

    /* Owners are persons of the seed; about 10 % have none, as do foreign plates. */
    struct records_vehicle v;
    size_t owned = 0;
    for (int i = 0; i < V; i++) {
        records_gen_vehicle_at(SEED, i, P, &v);
        uint64_t k = plate_key_hash(&v);
        keys[i] = k;
        /* Key and VIN side by side, sorted by key: (hash << 0) pairs kept in two arrays. */
        vin_of_key[i] = str_hash(v.vin);
        if (v.owner_cin[0]) {
            owned++;
            assert_true(sorted_has(cins, P, cin_pack(v.owner_cin)));
            assert_true(v.plate_kind == REC_PLATE_MA || v.plate_kind == REC_PLATE_WW);
        }
        assert_in_range(v.year, 1985, 2025);
        assert_true(v.make[0] && v.model[0] && v.colour[0]);
    }
    assert_in_range(owned * 100 / V, 85, 92);
    records_gen_vehicle_at(SEED, 7, 0, &v);
    assert_string_equal(v.owner_cin, "");

    /* VIN hashes in key order, to find a stolen plate's VIN. */
    uint64_t *pairs = malloc(sizeof(*pairs) * 2 * V);
    assert_non_null(pairs);
    for (int i = 0; i < V; i++) {
        pairs[2 * i] = keys[i];
        pairs[2 * i + 1] = vin_of_key[i];
    }
    qsort(pairs, V, 2 * sizeof(*pairs), cmp_u64);
    qsort(keys, V, sizeof(*keys), cmp_u64);

    size_t kinds[3] = {0}, nseen = 0;
    int64_t today = day_of(TODAY);
    struct records_hotlist h;
    for (int i = 0; i < H; i++) {
        records_gen_hotlist_at(SEED, i, P, V, TODAY, &h);
        assert_true(h.reason[0] && h.service[0] && h.instructions[0]);
        assert_true(am_utf8_valid(h.reason, strlen(h.reason)));
        assert_true(am_utf8_valid(h.service, strlen(h.service)));
        assert_true(am_utf8_valid(h.instructions, strlen(h.instructions)));
        int64_t from = day_of(h.valid_from);
        assert_in_range(today - from, 0, 731);
        if (h.valid_until[0])
            assert_in_range(day_of(h.valid_until) - today, 1, 731);
        assert_int_equal(h.person_id, 0);
        if (strcmp(h.kind, "stolen") == 0) {
            kinds[0]++;
            assert_true(!strcmp(h.action, "seize") || !strcmp(h.action, "stop_check"));
            assert_string_equal(h.cin, "");
            struct plate pl;
            char why[128];
            assert_int_equal(plate_parse(h.plate, strlen(h.plate), NULL, &pl, why, sizeof(why)), 0);
            uint64_t k = str_hash(pl.key);
            assert_true(sorted_has(keys, V, k));
            if (h.vin[0]) {
                uint64_t *e = bsearch(&k, pairs, V, 2 * sizeof(*pairs), cmp_u64);
                assert_non_null(e);
                assert_true(e[1] == str_hash(h.vin));
            }
            seen[nseen++] = k;
        } else {
            int wanted = strcmp(h.kind, "wanted") == 0;
            kinds[wanted ? 1 : 2]++;
            if (wanted)
                assert_true(!strcmp(h.action, "arrest") || !strcmp(h.action, "stop_check"));
            else
                assert_true(!strcmp(h.kind, "missing") &&
                            (!strcmp(h.action, "protect") || !strcmp(h.action, "report")));
            assert_true(sorted_has(cins, P, cin_pack(h.cin)));
            assert_true(!h.plate[0] && !h.vin[0]);
            seen[nseen++] = cin_pack(h.cin) ^ 0x8000000000000000ULL;
        }
    }
    print_message("hotlist: %zu stolen, %zu wanted, %zu missing\n", kinds[0], kinds[1], kinds[2]);
    assert_in_range(kinds[0] * 100 / H, 55, 65);
    assert_in_range(kinds[1] * 100 / H, 25, 35);
    assert_in_range(kinds[2] * 100 / H, 7, 13);
    /* No vehicle or person twice. */
    assert_int_equal(count_dups(seen, nseen), 0);

    /* Without vehicles, only persons; without persons, only vehicles. */
    for (int i = 0; i < 500; i++) {
        records_gen_hotlist_at(SEED, i, P, 0, TODAY, &h);
        assert_string_not_equal(h.kind, "stolen");
        records_gen_hotlist_at(SEED, i, 0, V, TODAY, &h);
        assert_string_equal(h.kind, "stolen");
    }
    free(cins);
    free(keys);
    free(vin_of_key);
    free(pairs);
    free(seen);
}

/* ------------------------------------------------------------ validation */

static void test_check(void **state)
{
    (void)state;
    enum { N = 30000 };
    char field[32], why[200];
    struct records_person p, p0;
    struct records_vehicle v, v0;
    struct records_hotlist h, h0;
    for (int i = 0; i < N; i++) {
        records_gen_person_at(SEED, i, &p);
        p0 = p;
        int rc = records_person_check(&p, field, why, sizeof(why));
        if (rc)
            print_error("person %d: %s: %s\n", i, field, why);
        assert_int_equal(rc, 0);
        /* Already in normal form: the check changes nothing. */
        assert_memory_equal(&p, &p0, sizeof(p));

        records_gen_vehicle_at(SEED, i, N, &v);
        v0 = v;
        rc = records_vehicle_check(&v, field, why, sizeof(why));
        if (rc)
            print_error("vehicle %d (%s): %s: %s\n", i, v.plate, field, why);
        assert_int_equal(rc, 0);
        assert_true(v.plate_key[0] != '\0');
        memcpy(v0.plate_key, v.plate_key, sizeof(v.plate_key));
        assert_memory_equal(&v, &v0, sizeof(v));

        records_gen_hotlist_at(SEED, i, N, N, NULL, &h);
        h0 = h;
        rc = records_hotlist_check(&h, field, why, sizeof(why));
        if (rc)
            print_error("hotlist %d: %s: %s\n", i, field, why);
        assert_int_equal(rc, 0);
        memcpy(h0.plate_key, h.plate_key, sizeof(h.plate_key));
        assert_memory_equal(&h, &h0, sizeof(h));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),      cmocka_unit_test(test_cin_unique),
        cmocka_unit_test(test_plates_vins_unique), cmocka_unit_test(test_persons_realistic),
        cmocka_unit_test(test_references),         cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
