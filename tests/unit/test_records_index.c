/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_records_index.c - the in-memory name index of src/records: persons
 * found across scripts, ranked, filtered by date and place of birth,
 * replaced and removed; and, over a larger random population, the
 * threshold walk's answers equal an exhaustive scoring of every person.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "records/generate.h"
#include "records/records_int.h"

static struct rix *ix;

static void put(int64_t id, const char *given_ar, const char *given_lat, const char *family_ar,
                const char *family_lat, const char *father_lat, const char *born, const char *place)
{
    struct rix_person p = {
        id,   {given_ar, given_lat}, {family_ar, family_lat}, {"", father_lat}, {NULL}, 0, born,
        place};
    rix_write_lock(ix);
    assert_int_equal(rix_put(ix, &p), 0);
    rix_write_unlock(ix);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(rix_new(&ix), 0);
    put(1, "محمد", "Mohamed", "العلوي", "Alaoui", "Ahmed", "1985-03-12", "Casablanca");
    put(2, "محمود", "Mahmoud", "العلوي", "Alaoui", "", "1990-01-02", "Rabat");
    put(3, "عبد الرحمن", "Abderrahmane", "بنجلون", "Benjelloun", "", "1972", "Fès");
    put(4, "أحمد", "Ahmed", "التازي", "Tazi", "Mohamed", "1960-07-01", "Tanger");
    put(5, "", "Youssef", "", "El Idrissi", "", "2001-11-30", "Agadir");
    put(6, "فاطمة الزهراء", "Fatima Zahra", "بناني", "Bennani", "", "1995-05-05", "Rabat");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rix_free(ix);
    return 0;
}

static size_t search(const char *name, const char *born, const char *place, struct rix_hit *h)
{
    struct rix_query q = {.name = name, .birth_date = born, .birth_place = place, .limit = 10};
    size_t n = 0;
    assert_int_equal(rix_search(ix, &q, 0.5, h, &n), 0);
    return n;
}

static void finds_across_scripts(void **state)
{
    (void)state;
    struct rix_hit h[10];
    const char *mohamed[] = {"Mohamed Alaoui", "Muhammad El Alaoui", "محمد العلوي",
                             "Mohammed Alaoui", "مُحَمَّد العـلوي"};
    for (size_t i = 0; i < sizeof(mohamed) / sizeof(mohamed[0]); i++) {
        size_t n = search(mohamed[i], NULL, NULL, h);
        assert_true(n >= 1);
        assert_int_equal(h[0].id, 1);
        /* Mahmoud Alaoui, if listed, comes after. */
        for (size_t k = 1; k < n; k++)
            assert_true(h[k].score < h[0].score);
    }
    size_t n = search("Abdul Rahman Ben Jelloun", NULL, NULL, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, 3);
    n = search("يوسف الإدريسي", NULL, NULL, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, 5);
    /* Two words written as one, and one written as two. */
    n = search("Fatimazahra Benani", NULL, NULL, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, 6);
    n = search("Abderrahmane Ben Jelloun", NULL, NULL, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, 3);
}

static void father_counts_less(void **state)
{
    (void)state;
    struct rix_hit h[10];
    /* "Mohamed" is person 1's own name and person 4's father's. */
    size_t n = search("Mohamed", NULL, NULL, h);
    assert_true(n >= 2);
    assert_int_equal(h[0].id, 1);
    bool four = false;
    for (size_t k = 1; k < n; k++)
        four = four || h[k].id == 4;
    assert_true(four);
}

static void filters(void **state)
{
    (void)state;
    struct rix_hit h[10];
    size_t n = search("Alaoui", "1990", NULL, h);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 2);
    n = search("Alaoui", "1985-03", NULL, h);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 1);
    n = search("Alaoui", "1985-03-12", NULL, h); /* a full date drives the search */
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 1);
    n = search("Alaoui", "1985-03-13", NULL, h);
    assert_int_equal(n, 0);
    n = search("Alaoui", NULL, "Rabat", h);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 2);
    n = search("Bennani", NULL, "الرباط", h); /* Rabat in the other script */
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 6);
    n = search("Abderrahmane", NULL, "فاس", h); /* the place in the other script */
    assert_int_equal(n, 1);
    assert_int_equal(h[0].id, 3);
    struct rix_query bad = {
        .name = "Alaoui", .birth_date = "1985-13-01", .birth_place = NULL, .limit = 10};
    assert_int_equal(rix_search(ix, &bad, 0.5, h, &n), AM_EINVAL);
    struct rix_query none = {.name = "-- ..", .birth_date = NULL, .birth_place = NULL, .limit = 10};
    assert_int_equal(rix_search(ix, &none, 0.5, h, &n), AM_EINVAL);
}

static void replace_and_remove(void **state)
{
    (void)state;
    struct rix_hit h[10];
    put(5, "", "Youssef", "", "Chraibi", "", "2001-11-30", "Agadir"); /* renamed */
    size_t n = search("Youssef Idrissi", NULL, NULL, h);
    for (size_t k = 0; k < n; k++)
        assert_true(h[k].id != 5 || h[k].score < 0.8);
    n = search("Youssef Chraibi", NULL, NULL, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, 5);
    rix_write_lock(ix);
    rix_remove(ix, 5);
    rix_write_unlock(ix);
    n = search("Youssef Chraibi", NULL, NULL, h);
    for (size_t k = 0; k < n; k++)
        assert_true(h[k].id != 5);
    struct rix_stats st;
    rix_stats_get(ix, &st);
    assert_int_equal(st.persons, 5);
}

/* The walk stops early; its best must be the best an exhaustive scoring finds. */
static void walk_equals_exhaustive(void **state)
{
    (void)state;
    static const char *const given[][2] = {
        {"محمد", "Mohamed"}, {"أحمد", "Ahmed"},  {"يوسف", "Youssef"}, {"حسن", "Hassan"},
        {"سعيد", "Said"},    {"كريم", "Karim"},  {"عمر", "Omar"},     {"رشيد", "Rachid"},
        {"خالد", "Khalid"},  {"هشام", "Hicham"}, {"ادريس", "Driss"},  {"مصطفى", "Mustapha"}};
    static const char *const family[][2] = {
        {"العلوي", "Alaoui"},    {"التازي", "Tazi"},      {"بناني", "Bennani"},
        {"برادة", "Berrada"},    {"الشرايبي", "Chraibi"}, {"لحلو", "Lahlou"},
        {"الفاسي", "Fassi"},     {"العمراني", "Amrani"},  {"الوزاني", "Ouazzani"},
        {"الإدريسي", "Idrissi"}, {"الكتاني", "Kettani"},  {"الزروالي", "Zerouali"}};
    struct rix *big;
    assert_int_equal(rix_new(&big), 0);
    uint64_t s = 42;
    enum { N = 20000 };
    static uint8_t gi[N + 1], fi[N + 1];
    for (int64_t id = 1; id <= N; id++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        gi[id] = (uint8_t)((s >> 33) % 12);
        fi[id] = (uint8_t)((s >> 45) % 12);
        struct rix_person p = {id,
                               {given[gi[id]][0], given[gi[id]][1]},
                               {family[fi[id]][0], family[fi[id]][1]},
                               {"", ""},
                               {NULL},
                               0,
                               "",
                               ""};
        rix_write_lock(big);
        assert_int_equal(rix_put(big, &p), 0);
        rix_write_unlock(big);
    }
    /* Every person named Khalid Lahlou is a perfect match; the top 10 are all such. */
    struct rix_query q = {
        .name = "Khaled Lahlou", .birth_date = NULL, .birth_place = NULL, .limit = 10};
    struct rix_hit h[10];
    size_t n = 0;
    assert_int_equal(rix_search(big, &q, 0.5, h, &n), 0);
    size_t perfect = 0;
    for (int64_t id = 1; id <= N; id++)
        perfect += gi[id] == 8 && fi[id] == 5;
    assert_true(perfect >= 10);
    assert_int_equal(n, 10);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(gi[h[k].id], 8);
        assert_int_equal(fi[h[k].id], 5);
    }
    rix_free(big);
}

/* The next of a test's pseudo-random numbers. */
static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A typing error in a name: one letter (a whole UTF-8 character) dropped or doubled. */
static void typo(char *s, uint64_t *rng)
{
    size_t starts[128], n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n < 128; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && s[i] != ' ')
            starts[n++] = i;
    if (n < 3)
        return;
    size_t at = starts[1 + next(rng) % (n - 2)], end = at + 1;
    while (((unsigned char)s[end] & 0xC0) == 0x80)
        end++;
    if (next(rng) % 2) {
        memmove(s + at, s + end, len - end + 1);
    } else if (len + (end - at) < REC_NAME_MAX) {
        memmove(s + end + (end - at), s + end, len - end + 1);
        memcpy(s + end, s + at, end - at);
    }
}

/*
 * On generated persons (the real frequencies: many Mohameds and Alaouis,
 * several spellings of each name in both scripts), with all the ways a
 * query is typed, and with the filters: the walk's best scores are the
 * best an exhaustive scoring finds, whichever shortcut it takes (the pair
 * phase by intersections or by a bitmap, marking a token every good match
 * must carry, stopping inside a list).
 */
static void walk_equals_exhaustive_generated(void **state)
{
    (void)state;
    enum { N = 40000, QUERIES = 400, LIMIT = 20 };
    struct rix *big;
    assert_int_equal(rix_new(&big), 0);
    struct records_person *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    rix_write_lock(big);
    for (int64_t i = 0; i < N; i++) {
        records_gen_person_at(5, i, p);
        struct rix_person x = {i + 1,
                               {p->given_ar, p->given_lat},
                               {p->family_ar, p->family_lat},
                               {p->father_ar, p->father_lat},
                               {NULL},
                               0,
                               p->birth_date,
                               p->birth_place};
        for (int k = 0; k < p->naliases; k++)
            x.aliases[x.naliases++] = p->aliases[k];
        assert_int_equal(rix_put(big, &x), 0);
    }
    rix_write_unlock(big);
    uint64_t rng = 11;
    size_t compared = 0, filtered = 0;
    for (int k = 0; k < QUERIES; k++) {
        records_gen_person_at(5, (int64_t)(next(&rng) % N), p);
        char a[REC_NAME_MAX], b[REC_NAME_MAX], name[4 * REC_NAME_MAX], year[8] = "";
        int variant = k % 7;
        bool ar = variant == 1 || variant == 3;
        snprintf(a, sizeof(a), "%s", ar ? p->given_ar : p->given_lat);
        snprintf(b, sizeof(b), "%s", ar || variant == 6 ? p->family_ar : p->family_lat);
        if (!a[0] || !b[0] || !p->father_lat[0])
            continue; /* some persons have no name in one script */
        if (variant == 2 || variant == 3)
            typo(a, &rng);
        if (variant == 5)
            snprintf(name, sizeof(name), "%s", b);
        else if (variant == 4)
            snprintf(name, sizeof(name), "%s %s %s", a, p->father_lat, b);
        else
            snprintf(name, sizeof(name), "%s %s", a, b);
        if (k % 3 == 0 && p->birth_date[0])
            snprintf(year, sizeof(year), "%.4s", p->birth_date);
        struct rix_query q = {.name = name,
                              .birth_date = year[0] ? year : NULL,
                              .birth_place = k % 11 == 0 ? p->birth_place : NULL,
                              .limit = LIMIT,
                              .raw = true};
        struct rix_query all = q;
        all.exhaustive = true;
        struct rix_hit hw[LIMIT], ha[LIMIT];
        size_t nw = 0, na = 0;
        int rc = rix_search(big, &q, 0.3, hw, &nw);
        if (rc)
            fail_msg("'%s' (%s): %d", name, year, rc);
        assert_int_equal(rix_search(big, &all, 0.3, ha, &na), 0);
        if (nw != na)
            fail_msg("'%s': the walk found %zu, scoring everyone %zu", name, nw, na);
        for (size_t i = 0; i < nw; i++)
            if (hw[i].score < ha[i].score - 1e-9 || hw[i].score > ha[i].score + 1e-9)
                fail_msg("'%s' (%s): answer %zu scores %.6f by the walk, %.6f by everyone", name,
                         year, i + 1, hw[i].score, ha[i].score);
        compared += nw;
        filtered += q.birth_date || q.birth_place;
    }
    assert_true(compared > QUERIES * LIMIT / 2);
    assert_true(filtered > QUERIES / 4);
    free(p);
    rix_free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(finds_across_scripts),
                                       cmocka_unit_test(father_counts_less),
                                       cmocka_unit_test(filters),
                                       cmocka_unit_test(replace_and_remove),
                                       cmocka_unit_test(walk_equals_exhaustive),
                                       cmocka_unit_test(walk_equals_exhaustive_generated)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
