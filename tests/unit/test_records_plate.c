/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_records_plate.c - the identifiers and formats of the records
 * module: plates in every accepted form and their reading variants, CINs,
 * phone numbers, the checks of persons, vehicles and hotlist entries, the
 * CSV and JSON lines readers with their issues, and the writers, whose
 * output must read back to the same records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/core.h"
#include "records/format.h"
#include "records/plate.h"
#include "records/records.h"

/* ------------------------------------------------------------ plates */

static void expect_plate(const char *text, const char *country, const char *key,
                         enum records_plate_kind kind)
{
    struct plate p;
    char why[160] = "";
    int rc = plate_parse(text, strlen(text), country, &p, why, sizeof(why));
    if (rc)
        print_error("plate '%s': %s\n", text, why);
    assert_int_equal(rc, 0);
    assert_string_equal(p.key, key);
    assert_int_equal(p.kind, kind);
    /* The key parses back to itself, with no country; the display, with the plate's. */
    struct plate again;
    assert_int_equal(plate_parse(p.key, strlen(p.key), NULL, &again, why, sizeof(why)), 0);
    assert_string_equal(again.key, key);
    assert_int_equal(again.kind, kind);
    assert_int_equal(plate_parse(p.display, strlen(p.display), p.country, &again, why, sizeof(why)),
                     0);
    assert_string_equal(again.key, key);
}

static void expect_no_plate(const char *text, const char *country, const char *why_part)
{
    struct plate p;
    char why[160] = "";
    int rc = plate_parse(text, strlen(text), country, &p, why, sizeof(why));
    if (rc == 0)
        print_error("plate '%s' parsed as %s\n", text, p.key);
    assert_int_equal(rc, AM_EINVAL);
    assert_true(why[0]);
    if (why_part && !strstr(why, why_part))
        print_error("plate '%s': '%s' lacks '%s'\n", text, why, why_part);
    if (why_part)
        assert_non_null(strstr(why, why_part));
}

static void test_plate_moroccan(void **state)
{
    (void)state;
    static const char *const same[] = {
        "12345 | أ | 6",
        "12345-أ-6",
        "12345أ6",
        "12345 A 6",
        "12345-A-6",
        "12345A6",
        "12345 a 6",
        " 12345 . A / 6 ",
        "١٢٣٤٥ أ ٦",             /* Arabic-Indic digits */
        "12345 \u200fأ\u200f 6", /* right-to-left marks */
        "12345 | ا | 6",         /* bare alif */
        "012345-A-06",           /* leading zeros */
        "6 | أ | 12345",         /* numbers the other way round */
        "6 A 12345",
        "12345\u2013A\u20136", /* en dashes */
        ("12345\xc2\xa0"
         "A 6"), /* no-break space */
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        expect_plate(same[i], NULL, "12345-A-6", REC_PLATE_MA);
    expect_plate("12345 A 6", "MA", "12345-A-6", REC_PLATE_MA);
    expect_plate("12345 A 6", "ma", "12345-A-6", REC_PLATE_MA);
    expect_plate("12345 A 6", "", "12345-A-6", REC_PLATE_MA);

    /* Each letter is the same key in Arabic and in Latin. */
    static const struct {
        const char *ar, *lat, *key;
    } letters[] = {
        {"ب", "B", "1-B-1"},   {"د", "D", "1-D-1"},   {"هـ", "H", "1-H-1"},  {"ه", "E", "1-H-1"},
        {"و", "W", "1-W-1"},   {"ط", "T", "1-T-1"},   {"ي", "Y", "1-Y-1"},   {"ى", "y", "1-Y-1"},
        {"ج", "J", "1-J-1"},   {"ح", "HH", "1-HH-1"}, {"ت", "TT", "1-TT-1"}, {"ش", "CH", "1-SH-1"},
        {"ش", "SH", "1-SH-1"}, {"ع", "AA", "1-AA-1"}, {"ق", "Q", "1-Q-1"},   {"ڭ", "G", "1-G-1"},
        {"خ", "KH", "1-KH-1"}, {"ص", "SS", "1-SS-1"}, {"ض", "DD", "1-DD-1"}, {"ظ", "ZZ", "1-ZZ-1"},
        {"غ", "GH", "1-GH-1"}, {"ذ", "DH", "1-DH-1"}, {"ث", "TH", "1-TH-1"}, {"ز", "Z", "1-Z-1"},
        {"س", "S", "1-S-1"},   {"ر", "R", "1-R-1"},   {"ف", "F", "1-F-1"},   {"ك", "K", "1-K-1"},
        {"ل", "L", "1-L-1"},   {"م", "M", "1-M-1"},   {"ن", "N", "1-N-1"},   {"ڤ", "V", "1-V-1"},
    };
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
        char a[64], l[64];
        snprintf(a, sizeof(a), "1 %s 1", letters[i].ar);
        snprintf(l, sizeof(l), "1-%s-1", letters[i].lat);
        expect_plate(a, NULL, letters[i].key, REC_PLATE_MA);
        expect_plate(l, NULL, letters[i].key, REC_PLATE_MA);
    }

    /* Order: written order when valid; reversed only when the written one is not. */
    expect_plate("12 A 34", NULL, "12-A-34", REC_PLATE_MA);
    expect_plate("34 A 12", NULL, "34-A-12", REC_PLATE_MA);
    expect_plate("12 A 95", NULL, "95-A-12", REC_PLATE_MA);
    expect_plate("89 A 99999", NULL, "99999-A-89", REC_PLATE_MA);

    struct plate p;
    assert_int_equal(plate_parse("12345هـ6", strlen("12345هـ6"), NULL, &p, NULL, 0), 0);
    assert_string_equal(p.display, "12345 | هـ | 6");
    assert_string_equal(p.country, "MA");
    assert_int_equal(plate_parse("12345-A-6", 9, NULL, &p, NULL, 0), 0);
    assert_string_equal(p.display, "12345 | أ | 6");

    expect_no_plate("12345 O 6", NULL, "write W");
    expect_no_plate("12345 X 6", NULL, "not a series letter");
    expect_no_plate("12345 AB 6", NULL, "not a series letter");
    expect_no_plate("123456 A 6", NULL, "at most 5 digits");
    expect_no_plate("12345 A 90", NULL, "1 to 89");
    expect_no_plate("12345 A 0", NULL, "cannot be 0");
    expect_no_plate("12345 6", NULL, "no series letter");
    expect_no_plate("1234586", NULL, "no series letter");
    expect_no_plate("A 12345", NULL, "serial | letter | prefecture");
    expect_no_plate("12345 A 6 7", NULL, "too many parts");
    expect_no_plate("12345 A ب 6", NULL, "too many parts");
    expect_no_plate("12345 A B", NULL, "more than one letter");
    expect_no_plate("12345@A6", NULL, "'@'");
    expect_no_plate("12345 ة 6", NULL, "U+0629");
    expect_no_plate("", NULL, "no plate");
    expect_no_plate(" - | ", NULL, "no plate");
    expect_no_plate("12345 A 6", "F1", "alpha-2");
    expect_no_plate("12345 A 6", "FRA", "alpha-2");
    assert_int_equal(plate_parse("12345\xff"
                                 "A6",
                                 8, NULL, &p, NULL, 0),
                     AM_EINVAL);
    assert_int_equal(plate_parse("12345\0A6", 8, NULL, &p, NULL, 0), AM_EINVAL);

    char longp[PLATE_INPUT_MAX + 2];
    memset(longp, ' ', sizeof(longp));
    memcpy(longp, "1 A 1", 5);
    assert_int_equal(plate_parse(longp, PLATE_INPUT_MAX, NULL, &p, NULL, 0), 0);
    assert_int_equal(plate_parse(longp, PLATE_INPUT_MAX + 1, NULL, &p, NULL, 0), AM_ETOOBIG);
}

static void test_plate_ww_diplomatic_foreign(void **state)
{
    (void)state;
    static const char *const ww[] = {"WW 123456", "ww-123456",  "WW123456",
                                     "123456 WW", "WW-0123456", "WW | 123456"};
    for (size_t i = 0; i < sizeof(ww) / sizeof(ww[0]); i++)
        expect_plate(ww[i], NULL, "WW-123456", REC_PLATE_WW);
    expect_plate("WW 7", NULL, "WW-7", REC_PLATE_WW);
    expect_no_plate("WW 1234567", NULL, "1 to 6 digits");
    expect_no_plate("WW 0", NULL, "not 0");
    expect_no_plate("WW 12 34", NULL, "one number");
    expect_no_plate("WW", NULL, NULL);

    static const char *const cd[] = {"CD 12-345", "CD 12 345", "cd12-345",  "12 CD 345",
                                     "12-CD-345", "12CD345",   "12-345 CD", "CD 012/345"};
    for (size_t i = 0; i < sizeof(cd) / sizeof(cd[0]); i++)
        expect_plate(cd[i], NULL, "CD-12-345", REC_PLATE_DIPLOMATIC);
    expect_plate("123 CD 45", NULL, "CD-123-45", REC_PLATE_DIPLOMATIC);
    expect_plate("CMD 1 2", NULL, "CMD-1-2", REC_PLATE_DIPLOMATIC);
    expect_plate("CC 10-20", NULL, "CC-10-20", REC_PLATE_DIPLOMATIC);
    expect_no_plate("CD 12345", NULL, "two numbers");
    expect_no_plate("CD 0 1", NULL, "1 to 99999");

    expect_plate("AB-123-CD", "fr", "F:FR:AB123CD", REC_PLATE_FOREIGN);
    expect_plate("ab 123 cd", "FR", "F:FR:AB123CD", REC_PLATE_FOREIGN);
    expect_plate("F:FR:AB-123-CD", NULL, "F:FR:AB123CD", REC_PLATE_FOREIGN);
    expect_plate("f:fr:AB123CD", "FR", "F:FR:AB123CD", REC_PLATE_FOREIGN);
    expect_plate("1234 BCD", "ES", "F:ES:1234BCD", REC_PLATE_FOREIGN);
    expect_plate("12345 A 6", "DZ", "F:DZ:12345A6", REC_PLATE_FOREIGN);
    struct plate p;
    assert_int_equal(plate_parse("AB-123-CD", 9, "fr", &p, NULL, 0), 0);
    assert_string_equal(p.country, "FR");
    assert_string_equal(p.display, "AB123CD");
    expect_no_plate("F:FR:AB123CD", "ES", "the plate says FR");
    expect_no_plate("F:MA:12345A6", NULL, "not a foreign plate");
    expect_no_plate("A", "FR", "2 to 10");
    expect_no_plate("ABCDEFGHIJK", "FR", "2 to 10");
    expect_no_plate("MÜ AB 123", "DE", "A-Z and 0-9");
}

static bool has_variant(const struct plate_variant *v, size_t n, const char *key, double score)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return v[i].score > score - 1e-9 && v[i].score < score + 1e-9;
    return false;
}

static void check_variants_sane(const struct plate_variant *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(v[i].score > 0 && v[i].score <= 1);
        if (i)
            assert_true(v[i - 1].score >= v[i].score);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(v[i].key, v[j].key);
        struct plate p;
        assert_int_equal(plate_parse(v[i].key, strlen(v[i].key), NULL, &p, NULL, 0), 0);
        assert_string_equal(p.key, v[i].key);
    }
}

static void test_plate_variants(void **state)
{
    (void)state;
    struct plate_variant v[64];
    size_t n;

    assert_int_equal(plate_variants("12345 A 6", 9, NULL, v, 64, &n), 0);
    assert_true(n >= 1);
    assert_string_equal(v[0].key, "12345-A-6");
    assert_true(v[0].score == 1.0);
    assert_int_equal(v[0].substitutions, 0);
    check_variants_sane(v, n);
    assert_true(has_variant(v, n, "12345-A-6", 1.0));

    /* The letter read as a digit. */
    assert_int_equal(plate_variants("12345 8 6", 9, NULL, v, 64, &n), 0);
    assert_true(n >= 1);
    assert_string_equal(v[0].key, "12345-B-6");
    assert_true(v[0].score == PLATE_SCORE_ONE);
    assert_int_equal(v[0].substitutions, 1);
    check_variants_sane(v, n);

    /* No separators, no letter: every single exchange that makes a plate. */
    assert_int_equal(plate_variants("1234586", 7, NULL, v, 64, &n), 0);
    check_variants_sane(v, n);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++)
        ones += v[i].score == PLATE_SCORE_ONE;
    assert_int_equal(ones, 3);
    assert_true(has_variant(v, n, "12345-B-6", PLATE_SCORE_ONE));
    assert_true(has_variant(v, n, "1234-S-86", PLATE_SCORE_ONE));
    assert_true(has_variant(v, n, "34586-Z-1", PLATE_SCORE_ONE));
    /* Two exchanges always give two letter groups here: nothing more. */
    assert_int_equal(n, 3);

    /* O is no letter; read as 0, D or Q. */
    assert_int_equal(plate_variants("12345 O 6", 9, NULL, v, 64, &n), 0);
    check_variants_sane(v, n);
    assert_true(has_variant(v, n, "12345-D-6", PLATE_SCORE_ONE));
    assert_true(has_variant(v, n, "12345-Q-6", PLATE_SCORE_ONE));
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(v[i].key, "12345-W-6");

    /* Both orders valid: the other one below the written one. */
    assert_int_equal(plate_variants("12 A 34", 7, NULL, v, 64, &n), 0);
    check_variants_sane(v, n);
    assert_string_equal(v[0].key, "12-A-34");
    assert_string_equal(v[1].key, "34-A-12");
    assert_true(v[1].score == PLATE_SCORE_SWAP);

    /* A digit of the serial read as a letter: I in the serial. */
    assert_int_equal(plate_variants("I2345 A 6", 9, NULL, v, 64, &n), 0);
    check_variants_sane(v, n);
    assert_string_equal(v[0].key, "12345-A-6");

    /* Foreign plates vary too, within their country. */
    assert_int_equal(plate_variants("AB-1O3", 6, "FR", v, 64, &n), 0);
    check_variants_sane(v, n);
    assert_string_equal(v[0].key, "F:FR:AB1O3");
    assert_true(has_variant(v, n, "F:FR:AB103", PLATE_SCORE_ONE));
    assert_true(has_variant(v, n, "F:FR:A8103", PLATE_SCORE_TWO));

    /* max bounds the answer, the best kept. */
    assert_int_equal(plate_variants("1234586", 7, NULL, v, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_true(v[1].score == PLATE_SCORE_ONE);

    /* Nothing parses: n = 0, not an error. */
    assert_int_equal(plate_variants("hello?", 6, NULL, v, 64, &n), 0);
    assert_int_equal(n, 0);

    /* Bounded: the longest input, all confusable. */
    char all[PLATE_INPUT_MAX + 1];
    memset(all, '0', sizeof(all));
    assert_int_equal(plate_variants(all, PLATE_INPUT_MAX, "FR", v, 64, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(plate_variants(all, PLATE_INPUT_MAX + 1, NULL, v, 64, &n), AM_ETOOBIG);
}

/* ------------------------------------------------------------ CIN, phones */

static void test_cin(void **state)
{
    (void)state;
    char out[REC_CIN_SZ], why[128];
    static const char *const ok[][2] = {
        {"A123456", "A123456"},       {"BE123456", "BE123456"}, {"BK12345", "BK12345"},
        {"be 123.456", "BE123456"},   {"b-e-1", "BE1"},         {"Z12345678", "Z12345678"},
        {"  ab 000123 ", "AB000123"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(cin_parse(ok[i][0], strlen(ok[i][0]), out, why, sizeof(why)), 0);
        assert_string_equal(out, ok[i][1]);
    }
    static const char *const bad[] = {"123456",
                                      "ABC123",
                                      "BE",
                                      "B1E2",
                                      "BE123456789",
                                      "BÉ123",
                                      "BE_123",
                                      "",
                                      "  ",
                                      "BE12/3",
                                      "BE1234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(cin_parse(bad[i], strlen(bad[i]), out, why, sizeof(why)), AM_EINVAL);
        assert_true(why[0]);
    }
    int digits_only = -1;
    assert_int_equal(cin_parse_partial("be12", 4, out, &digits_only, why, sizeof(why)), 0);
    assert_string_equal(out, "BE12");
    assert_int_equal(digits_only, 0);
    assert_int_equal(cin_parse_partial("B1 2", 4, out, &digits_only, why, sizeof(why)), 0);
    assert_string_equal(out, "B12");
    assert_int_equal(cin_parse_partial("12 345", 6, out, &digits_only, why, sizeof(why)), 0);
    assert_string_equal(out, "12345");
    assert_int_equal(digits_only, 1);
    assert_int_equal(cin_parse_partial("B1", 2, out, &digits_only, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(cin_parse_partial("BE", 2, out, &digits_only, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(cin_parse_partial("1B23", 4, out, &digits_only, why, sizeof(why)), AM_EINVAL);
}

static void test_phone(void **state)
{
    (void)state;
    char out[REC_PHONE_SZ], why[128];
    static const char *const ok[][2] = {
        {"0612345678", "+212612345678"},           {"06 12 34 56 78", "+212612345678"},
        {"06.12.34.56.78", "+212612345678"},       {"+212 6 12 34 56 78", "+212612345678"},
        {"+212612345678", "+212612345678"},        {"00212612345678", "+212612345678"},
        {"00 212 6 12 34 56 78", "+212612345678"}, {"+212 (0)6 12 34 56 78", "+212612345678"},
        {"+212 0612345678", "+212612345678"},      {"0712345678", "+212712345678"},
        {"0522-12-34-56", "+212522123456"},        {"+33 1 23 45 67 89", "+33123456789"},
        {"0033 1 23 45 67 89", "+33123456789"},    {"+44 (0)20 7946 0958", "+442079460958"},
        {"+1 (202) 555-0123", "+12025550123"},     {"+123456789012345", "+123456789012345"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int rc = records_phone_parse(ok[i][0], strlen(ok[i][0]), out, why, sizeof(why));
        if (rc)
            print_error("phone '%s': %s\n", ok[i][0], why);
        assert_int_equal(rc, 0);
        assert_string_equal(out, ok[i][1]);
        /* Normalised is a fixed point. */
        assert_int_equal(records_phone_parse(out, strlen(out), out, why, sizeof(why)), 0);
        assert_string_equal(out, ok[i][1]);
    }
    static const char *const bad[] = {"612345678",
                                      "0412345678",
                                      "061234567",
                                      "06123456789",
                                      "+212 6123",
                                      "+1234567",
                                      "+0123456789",
                                      "0612x45678",
                                      "",
                                      "+",
                                      "+1234567890123456",
                                      "06 12 34 56 78 ext",
                                      "+212+612345678",
                                      "00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        int rc = records_phone_parse(bad[i], strlen(bad[i]), out, why, sizeof(why));
        if (rc == 0)
            print_error("phone '%s' accepted as %s\n", bad[i], out);
        assert_int_equal(rc, AM_EINVAL);
        assert_true(why[0]);
    }
}

/* ------------------------------------------------------------ checks */

static void good_person(struct records_person *p)
{
    memset(p, 0, sizeof(*p));
    am_strlcpy(p->cin, "be 123456", sizeof(p->cin));
    am_strlcpy(p->given_ar, "مُحَمَّد", sizeof(p->given_ar));
    am_strlcpy(p->family_ar, "العلوي", sizeof(p->family_ar));
    am_strlcpy(p->father_ar, "عبد الرحمن", sizeof(p->father_ar));
    am_strlcpy(p->given_lat, "  Mohamed ", sizeof(p->given_lat));
    am_strlcpy(p->family_lat, "El Alaoui-Ben Saïd", sizeof(p->family_lat));
    am_strlcpy(p->father_lat, "Abderrahmane", sizeof(p->father_lat));
    am_strlcpy(p->aliases[0], "Simo", sizeof(p->aliases[0]));
    am_strlcpy(p->aliases[1], "أبو علي", sizeof(p->aliases[1]));
    p->naliases = 2;
    am_strlcpy(p->birth_date, "1985-02-28", sizeof(p->birth_date));
    am_strlcpy(p->birth_place, "Casablanca", sizeof(p->birth_place));
    am_strlcpy(p->nationality, "mar", sizeof(p->nationality));
    am_strlcpy(p->sex, "m", sizeof(p->sex));
    am_strlcpy(p->addresses[0], "12, rue d'Ifni, Maârif, Casablanca", sizeof(p->addresses[0]));
    p->naddresses = 1;
    am_strlcpy(p->phones[0], "06 12 34 56 78", sizeof(p->phones[0]));
    am_strlcpy(p->phones[1], "+33 6 12 34 56 78", sizeof(p->phones[1]));
    p->nphones = 2;
}

static void expect_person_bad(struct records_person *p, const char *field)
{
    char f[24] = "", why[160] = "";
    int rc = records_person_check(p, f, why, sizeof(why));
    if (rc == 0 || strcmp(f, field) != 0)
        print_error("expected %s to fail, got rc %d field '%s' why '%s'\n", field, rc, f, why);
    assert_int_equal(rc, AM_EINVAL);
    assert_string_equal(f, field);
    assert_true(why[0]);
}

/* YYYY-MM-DD (or YYYY-MM) of tm into a date field. */
static void set_date(char *dst, const struct tm *tm, bool day)
{
    char buf[64];
    if (day)
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm->tm_year + 1900, tm->tm_mon + 1,
                 tm->tm_mday);
    else
        snprintf(buf, sizeof(buf), "%04d-%02d", tm->tm_year + 1900, tm->tm_mon + 1);
    am_strlcpy(dst, buf, REC_DATE_SZ);
}

static void test_check_person(void **state)
{
    (void)state;
    struct records_person p, q;
    char f[24], why[160];
    good_person(&p);
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    assert_string_equal(p.cin, "BE123456");
    assert_string_equal(p.given_lat, "Mohamed");
    assert_string_equal(p.nationality, "MAR");
    assert_string_equal(p.sex, "M");
    assert_string_equal(p.phones[0], "+212612345678");
    assert_string_equal(p.phones[1], "+33612345678");
    /* Checking is idempotent, to the byte. */
    q = p;
    assert_int_equal(records_person_check(&q, f, why, sizeof(why)), 0);
    assert_memory_equal(&p, &q, sizeof(p));

    /* Either script alone is enough; one of given or family. */
    memset(&p, 0, sizeof(p));
    am_strlcpy(p.family_lat, "Bennani", sizeof(p.family_lat));
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    memset(&p, 0, sizeof(p));
    am_strlcpy(p.given_ar, "فاطمة", sizeof(p.given_ar));
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    memset(&p, 0, sizeof(p));
    am_strlcpy(p.father_lat, "Ahmed", sizeof(p.father_lat));
    expect_person_bad(&p, "family_lat");
    memset(&p, 0, sizeof(p));
    expect_person_bad(&p, "family_lat");

    /* Names accepted. */
    static const char *const lat_ok[] = {"N'Diaye", "Aït Ben Haddou", "Hélène-Marie", "O’Neil",
                                         "Saʿid",   "Łukasz",         "Ngô Bảo Châu"};
    for (size_t i = 0; i < sizeof(lat_ok) / sizeof(lat_ok[0]); i++) {
        good_person(&p);
        am_strlcpy(p.given_lat, lat_ok[i], sizeof(p.given_lat));
        assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    }
    static const char *const ar_ok[] = {"عبد الله", "آيت الحاج", "مُحَمَّد", "هـشام", "بن-علي"};
    for (size_t i = 0; i < sizeof(ar_ok) / sizeof(ar_ok[0]); i++) {
        good_person(&p);
        am_strlcpy(p.family_ar, ar_ok[i], sizeof(p.family_ar));
        assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    }

    /* Each field's failures. */
    static const struct {
        size_t off, size;
        const char *value, *field;
    } bad[] = {
        {offsetof(struct records_person, given_ar), REC_NAME_MAX, "Mohamed", "given_ar"},
        {offsetof(struct records_person, given_ar), REC_NAME_MAX, "محمد Mohamed", "given_ar"},
        {offsetof(struct records_person, family_ar), REC_NAME_MAX, "العلوي2", "family_ar"},
        {offsetof(struct records_person, father_ar), REC_NAME_MAX, "---", "father_ar"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "محمد", "given_lat"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "Mohamed2", "given_lat"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "Moha@med", "given_lat"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "Moha,med", "given_lat"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "Mo\tha", "given_lat"},
        {offsetof(struct records_person, given_lat), REC_NAME_MAX, "Mo\nha", "given_lat"},
        {offsetof(struct records_person, family_lat), REC_NAME_MAX, "Moh\xc3", "family_lat"},
        {offsetof(struct records_person, family_lat), REC_NAME_MAX,
         "Moh\xe2\x80\xae"
         "a",
         "family_lat"},
        {offsetof(struct records_person, father_lat), REC_NAME_MAX, "Ali\x7f", "father_lat"},
        {offsetof(struct records_person, cin), REC_CIN_SZ, "123456", "cin"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "1899-12-31", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "2023-02-29", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "2020-13", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "2020-1-1", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "20201", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "2999", "birth_date"},
        {offsetof(struct records_person, birth_date), REC_DATE_SZ, "85-01-01", "birth_date"},
        {offsetof(struct records_person, birth_place), REC_NAME_MAX, "Fès\r", "birth_place"},
        {offsetof(struct records_person, nationality), 4, "MA", "nationality"},
        {offsetof(struct records_person, nationality), 4, "M4R", "nationality"},
        {offsetof(struct records_person, sex), 2, "X", "sex"},
        {offsetof(struct records_person, aliases), REC_NAME_MAX, "Simo;Simou", "aliases"},
        {offsetof(struct records_person, aliases), REC_NAME_MAX, "", "aliases"},
        {offsetof(struct records_person, aliases), REC_NAME_MAX, "007", "aliases"},
        {offsetof(struct records_person, addresses), REC_TEXT_MAX, "a;b", "addresses"},
        {offsetof(struct records_person, addresses), REC_TEXT_MAX, "  ", "addresses"},
        {offsetof(struct records_person, addresses), REC_TEXT_MAX, "line\nbreak", "addresses"},
        {offsetof(struct records_person, phones), REC_PHONE_SZ, "12345", "phones"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        good_person(&p);
        char *dst = (char *)&p + bad[i].off;
        memset(dst, 0, bad[i].size);
        memcpy(dst, bad[i].value, strlen(bad[i].value));
        expect_person_bad(&p, bad[i].field);
    }
    /* Dates: partial forms, leap days, today. */
    static const char *const dates_ok[] = {"1900", "1985-02", "2024-02-29", "2000-02-29", ""};
    for (size_t i = 0; i < sizeof(dates_ok) / sizeof(dates_ok[0]); i++) {
        good_person(&p);
        am_strlcpy(p.birth_date, dates_ok[i], sizeof(p.birth_date));
        assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    }
    good_person(&p);
    am_strlcpy(p.birth_date, "1900-02-29", sizeof(p.birth_date));
    expect_person_bad(&p, "birth_date");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    good_person(&p);
    snprintf(p.birth_date, sizeof(p.birth_date), "%04d", (tm.tm_year + 1900) % 10000);
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    snprintf(p.birth_date, sizeof(p.birth_date), "%04d", (tm.tm_year + 1901) % 10000);
    expect_person_bad(&p, "birth_date");
    /* Today (UTC) is no future; the day after tomorrow is, wherever one is. */
    set_date(p.birth_date, &tm, true);
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    time_t later = now + 2 * 86400;
    gmtime_r(&later, &tm);
    set_date(p.birth_date, &tm, true);
    expect_person_bad(&p, "birth_date");
    set_date(p.birth_date, &tm, false);
    if (tm.tm_mday > 2) /* the same month as today */
        assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);

    /* Strings that do not end in their array; counts out of range. */
    good_person(&p);
    memset(p.given_lat, 'a', sizeof(p.given_lat));
    expect_person_bad(&p, "given_lat");
    good_person(&p);
    memset(p.cin, 'A', sizeof(p.cin));
    expect_person_bad(&p, "cin");
    good_person(&p);
    p.naliases = REC_ALIASES_MAX + 1;
    expect_person_bad(&p, "aliases");
    good_person(&p);
    p.nphones = -1;
    expect_person_bad(&p, "phones");
    good_person(&p);
    memset(p.phones[0], '6', sizeof(p.phones[0]));
    expect_person_bad(&p, "phones");
    /* The longest name that fits is fine. */
    good_person(&p);
    memset(p.given_lat, 'a', sizeof(p.given_lat) - 1);
    p.given_lat[sizeof(p.given_lat) - 1] = '\0';
    assert_int_equal(records_person_check(&p, f, why, sizeof(why)), 0);
    /* NULL field and why are allowed. */
    good_person(&p);
    p.sex[0] = 'Q';
    assert_int_equal(records_person_check(&p, NULL, NULL, 0), AM_EINVAL);
}

static void good_vehicle(struct records_vehicle *v)
{
    memset(v, 0, sizeof(*v));
    am_strlcpy(v->plate, "12345 | أ | 6", sizeof(v->plate));
    am_strlcpy(v->vin, "wvwzzz1jz3w386752", sizeof(v->vin));
    am_strlcpy(v->make, "Dacia", sizeof(v->make));
    am_strlcpy(v->model, "Logan", sizeof(v->model));
    am_strlcpy(v->colour, "blanc", sizeof(v->colour));
    v->year = 2015;
    am_strlcpy(v->owner_cin, "bk 12345", sizeof(v->owner_cin));
}

static void expect_vehicle_bad(struct records_vehicle *v, const char *field)
{
    char f[24] = "", why[160] = "";
    int rc = records_vehicle_check(v, f, why, sizeof(why));
    if (rc == 0 || strcmp(f, field) != 0)
        print_error("expected %s to fail, got rc %d field '%s' why '%s'\n", field, rc, f, why);
    assert_int_equal(rc, AM_EINVAL);
    assert_string_equal(f, field);
    assert_true(why[0]);
}

static void test_check_vehicle(void **state)
{
    (void)state;
    struct records_vehicle v, w;
    char f[24], why[160];
    good_vehicle(&v);
    assert_int_equal(records_vehicle_check(&v, f, why, sizeof(why)), 0);
    assert_string_equal(v.plate, "12345 | أ | 6");
    assert_string_equal(v.plate_key, "12345-A-6");
    assert_int_equal(v.plate_kind, REC_PLATE_MA);
    assert_string_equal(v.country, "MA");
    assert_string_equal(v.vin, "WVWZZZ1JZ3W386752");
    assert_string_equal(v.owner_cin, "BK12345");
    w = v;
    assert_int_equal(records_vehicle_check(&w, f, why, sizeof(why)), 0);
    assert_memory_equal(&v, &w, sizeof(v));

    good_vehicle(&v);
    am_strlcpy(v.plate, "AB-123-CD", sizeof(v.plate));
    am_strlcpy(v.country, "fr", sizeof(v.country));
    v.vin[0] = '\0';
    v.year = 0;
    assert_int_equal(records_vehicle_check(&v, f, why, sizeof(why)), 0);
    assert_string_equal(v.plate_key, "F:FR:AB123CD");
    assert_int_equal(v.plate_kind, REC_PLATE_FOREIGN);
    assert_string_equal(v.country, "FR");

    good_vehicle(&v);
    am_strlcpy(v.plate, "WW 123456", sizeof(v.plate));
    am_strlcpy(v.country, "MA", sizeof(v.country));
    assert_int_equal(records_vehicle_check(&v, f, why, sizeof(why)), 0);
    assert_int_equal(v.plate_kind, REC_PLATE_WW);
    assert_string_equal(v.plate_key, "WW-123456");

    good_vehicle(&v);
    v.plate[0] = '\0';
    expect_vehicle_bad(&v, "plate");
    good_vehicle(&v);
    am_strlcpy(v.plate, "12345 O 6", sizeof(v.plate));
    expect_vehicle_bad(&v, "plate");
    good_vehicle(&v);
    am_strlcpy(v.country, "F", sizeof(v.country));
    expect_vehicle_bad(&v, "country");
    good_vehicle(&v);
    am_strlcpy(v.vin, "WVWZZZ1JZ3W38675O", sizeof(v.vin));
    expect_vehicle_bad(&v, "vin");
    good_vehicle(&v);
    am_strlcpy(v.vin, "WVWZZZ1JZ3W38675", sizeof(v.vin));
    expect_vehicle_bad(&v, "vin");
    good_vehicle(&v);
    am_strlcpy(v.vin, "WVWZZZ1JZ3W38675#", sizeof(v.vin));
    expect_vehicle_bad(&v, "vin");
    good_vehicle(&v);
    am_strlcpy(v.make,
               "Da\x01"
               "cia",
               sizeof(v.make));
    expect_vehicle_bad(&v, "make");
    good_vehicle(&v);
    memset(v.colour, 'x', sizeof(v.colour));
    expect_vehicle_bad(&v, "colour");
    good_vehicle(&v);
    v.year = 1899;
    expect_vehicle_bad(&v, "year");
    good_vehicle(&v);
    v.year = 9999;
    expect_vehicle_bad(&v, "year");
    good_vehicle(&v);
    am_strlcpy(v.owner_cin, "12", sizeof(v.owner_cin));
    expect_vehicle_bad(&v, "owner_cin");
}

static void good_hotlist(struct records_hotlist *h, const char *kind)
{
    memset(h, 0, sizeof(*h));
    am_strlcpy(h->kind, kind, sizeof(h->kind));
    if (strcmp(kind, "stolen") == 0) {
        am_strlcpy(h->plate, "12345-د-6", sizeof(h->plate));
        am_strlcpy(h->action, "seize", sizeof(h->action));
    } else {
        am_strlcpy(h->cin, "a123456", sizeof(h->cin));
        am_strlcpy(h->action, strcmp(kind, "wanted") == 0 ? "arrest" : "protect",
                   sizeof(h->action));
    }
    am_strlcpy(h->reason, "Mandat d'arrêt n° 2024/1234", sizeof(h->reason));
    am_strlcpy(h->service, "DGSN Casablanca", sizeof(h->service));
    am_strlcpy(h->valid_from, "2024-01-01", sizeof(h->valid_from));
    am_strlcpy(h->valid_until, "2030-12-31", sizeof(h->valid_until));
    am_strlcpy(h->instructions, "Approach with care.\nCall the duty officer.",
               sizeof(h->instructions));
}

static void expect_hotlist_bad(struct records_hotlist *h, const char *field)
{
    char f[24] = "", why[160] = "";
    int rc = records_hotlist_check(h, f, why, sizeof(why));
    if (rc == 0 || strcmp(f, field) != 0)
        print_error("expected %s to fail, got rc %d field '%s' why '%s'\n", field, rc, f, why);
    assert_int_equal(rc, AM_EINVAL);
    assert_string_equal(f, field);
    assert_true(why[0]);
}

static void test_check_hotlist(void **state)
{
    (void)state;
    struct records_hotlist h, g;
    char f[24], why[160];
    good_hotlist(&h, "WANTED");
    assert_int_equal(records_hotlist_check(&h, f, why, sizeof(why)), 0);
    assert_string_equal(h.kind, "wanted");
    assert_string_equal(h.cin, "A123456");
    assert_string_equal(h.plate_key, "");
    g = h;
    assert_int_equal(records_hotlist_check(&g, f, why, sizeof(why)), 0);
    assert_memory_equal(&g, &h, sizeof(h));

    good_hotlist(&h, "stolen");
    am_strlcpy(h.action, "Seize", sizeof(h.action));
    assert_int_equal(records_hotlist_check(&h, f, why, sizeof(why)), 0);
    assert_string_equal(h.plate_key, "12345-D-6");
    assert_string_equal(h.action, "seize");
    good_hotlist(&h, "stolen");
    h.plate[0] = '\0';
    am_strlcpy(h.vin, "VF1RFB00X56789012", sizeof(h.vin));
    assert_int_equal(records_hotlist_check(&h, f, why, sizeof(why)), 0);
    good_hotlist(&h, "stolen");
    am_strlcpy(h.plate, "F:ES:1234 BCD", sizeof(h.plate));
    assert_int_equal(records_hotlist_check(&h, f, why, sizeof(why)), 0);
    assert_string_equal(h.plate_key, "F:ES:1234BCD");
    good_hotlist(&h, "missing");
    h.cin[0] = '\0';
    h.person_id = 42;
    h.valid_from[0] = h.valid_until[0] = h.instructions[0] = '\0';
    assert_int_equal(records_hotlist_check(&h, f, why, sizeof(why)), 0);

    good_hotlist(&h, "lost");
    expect_hotlist_bad(&h, "kind");
    good_hotlist(&h, "wanted");
    h.kind[0] = '\0';
    expect_hotlist_bad(&h, "kind");
    good_hotlist(&h, "wanted");
    h.cin[0] = '\0';
    expect_hotlist_bad(&h, "cin");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.cin, "A", sizeof(h.cin));
    expect_hotlist_bad(&h, "cin");
    good_hotlist(&h, "wanted");
    h.person_id = -3;
    expect_hotlist_bad(&h, "person_id");
    good_hotlist(&h, "missing");
    am_strlcpy(h.plate, "12345 A 6", sizeof(h.plate));
    expect_hotlist_bad(&h, "plate");
    good_hotlist(&h, "missing");
    am_strlcpy(h.vin, "VF1RFB00X56789012", sizeof(h.vin));
    expect_hotlist_bad(&h, "vin");
    good_hotlist(&h, "stolen");
    h.plate[0] = '\0';
    expect_hotlist_bad(&h, "plate");
    good_hotlist(&h, "stolen");
    am_strlcpy(h.plate, "12345 A", sizeof(h.plate));
    expect_hotlist_bad(&h, "plate");
    good_hotlist(&h, "stolen");
    am_strlcpy(h.cin, "A1", sizeof(h.cin));
    expect_hotlist_bad(&h, "cin");
    good_hotlist(&h, "stolen");
    h.person_id = 4;
    expect_hotlist_bad(&h, "person_id");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.reason, "   ", sizeof(h.reason));
    expect_hotlist_bad(&h, "reason");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.reason, "two\nlines", sizeof(h.reason));
    expect_hotlist_bad(&h, "reason");
    good_hotlist(&h, "wanted");
    h.service[0] = '\0';
    expect_hotlist_bad(&h, "service");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.action, "shoot", sizeof(h.action));
    expect_hotlist_bad(&h, "action");
    good_hotlist(&h, "wanted");
    h.action[0] = '\0';
    expect_hotlist_bad(&h, "action");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.valid_from, "2024-02-30", sizeof(h.valid_from));
    expect_hotlist_bad(&h, "valid_from");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.valid_until, "2024", sizeof(h.valid_until));
    expect_hotlist_bad(&h, "valid_until");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.valid_until, "2023-12-31", sizeof(h.valid_until));
    expect_hotlist_bad(&h, "valid_until");
    good_hotlist(&h, "wanted");
    am_strlcpy(h.instructions, "tab\there", sizeof(h.instructions));
    expect_hotlist_bad(&h, "instructions");
}

/* ------------------------------------------------------------ readers */

/* Reads everything; returns good records, fills the issues (at most 32). */
static int read_all(enum records_kind kind, enum records_format fmt, const char *text,
                    union records_any *recs, int maxrecs, struct records_issue *issues,
                    int *nissues)
{
    struct records_reader r;
    records_reader_init(&r, kind, fmt, text, strlen(text));
    int good = 0;
    *nissues = 0;
    for (int guard = 0; guard < 10000; guard++) {
        union records_any rec;
        struct records_issue is;
        size_t before = r.pos;
        int rc = records_reader_next(&r, &rec, &is);
        if (rc == 0)
            return good;
        assert_true(r.pos > before);
        if (rc == 1) {
            if (good < maxrecs)
                recs[good] = rec;
            good++;
        } else {
            assert_int_equal(rc, AM_EINVAL);
            if (*nissues < 32)
                issues[*nissues] = is;
            (*nissues)++;
        }
    }
    fail_msg("the reader did not end");
    return -1;
}

static void expect_issue(const struct records_issue *is, int64_t line, const char *field,
                         const char *why_part)
{
    if (is->line != line || strcmp(is->field, field) != 0 || !strstr(is->why, why_part))
        print_error("issue line %lld field '%s' why '%s'; expected line %lld field '%s' '%s'\n",
                    (long long)is->line, is->field, is->why, (long long)line, field, why_part);
    assert_int_equal(is->line, line);
    assert_string_equal(is->field, field);
    assert_non_null(strstr(is->why, why_part));
}

static void test_kind_format_parse(void **state)
{
    (void)state;
    enum records_kind k;
    enum records_format fm;
    assert_int_equal(records_kind_parse("persons", &k), 0);
    assert_int_equal(k, RECORDS_PERSONS);
    assert_int_equal(records_kind_parse("vehicles", &k), 0);
    assert_int_equal(k, RECORDS_VEHICLES);
    assert_int_equal(records_kind_parse("hotlist", &k), 0);
    assert_int_equal(k, RECORDS_HOTLIST);
    assert_int_equal(records_kind_parse("person", &k), AM_EINVAL);
    assert_int_equal(records_kind_parse(NULL, &k), AM_EINVAL);
    assert_int_equal(records_format_parse("csv", &fm), 0);
    assert_int_equal(fm, RECORDS_CSV);
    assert_int_equal(records_format_parse("jsonl", &fm), 0);
    assert_int_equal(fm, RECORDS_JSONL);
    assert_int_equal(records_format_parse("json", &fm), AM_EINVAL);
    assert_string_equal(records_kind_name(RECORDS_HOTLIST), "hotlist");
    assert_null(records_kind_name((enum records_kind)7));

    /* A reader of no known kind or format says so once, then ends. */
    struct records_reader r;
    static union records_any rec;
    struct records_issue is;
    records_reader_init(&r, (enum records_kind)5, RECORDS_CSV, "a\n", 2);
    assert_int_equal(records_reader_next(&r, &rec, &is), AM_EINVAL);
    assert_true(is.why[0]);
    assert_int_equal(records_reader_next(&r, &rec, &is), 0);
    records_reader_init(&r, RECORDS_PERSONS, (enum records_format)9, "a\n", 2);
    assert_int_equal(records_reader_next(&r, &rec, &is), AM_EINVAL);
    assert_int_equal(records_reader_next(&r, &rec, &is), 0);
}

static void test_csv_read(void **state)
{
    (void)state;
    static union records_any recs[8];
    struct records_issue is[32];
    int ni;
    /* BOM, CRLF, columns in another order and not all of them, quotes, lists. */
    const char *csv = "\xEF\xBB\xBF"
                      "family_lat, Given_Lat ,cin,phones,aliases,given_ar,addresses\r\n"
                      "Bennani,Karim,be123456,0612345678;+33 6 12 34 56 78,Kiko;كريمو,كريم,"
                      "\"12, rue \"\"Ifni\"\", Casablanca\"\r\n"
                      "\r\n"
                      "   \r\n"
                      "\"El Idrissi\",Salma,,,,,\r\n";
    int n = read_all(RECORDS_PERSONS, RECORDS_CSV, csv, recs, 8, is, &ni);
    assert_int_equal(ni, 0);
    assert_int_equal(n, 2);
    struct records_person *p = &recs[0].person;
    assert_string_equal(p->family_lat, "Bennani");
    assert_string_equal(p->given_lat, "Karim");
    assert_string_equal(p->cin, "BE123456");
    assert_int_equal(p->nphones, 2);
    assert_string_equal(p->phones[1], "+33612345678");
    assert_int_equal(p->naliases, 2);
    assert_string_equal(p->aliases[1], "كريمو");
    assert_int_equal(p->naddresses, 0 + 1);
    assert_string_equal(p->addresses[0], "12, rue \"Ifni\", Casablanca");
    assert_int_equal(p->id, 0);
    assert_string_equal(recs[1].person.family_lat, "El Idrissi");
    assert_int_equal(recs[1].person.nphones, 0);

    /* Issues on lines, and the reader goes on. */
    const char *bad = "given_lat,family_lat,phones,birth_date\n"
                      "Ali,Alaoui,,1990\n"                 /* 2: good */
                      "Ali,Alaoui\n"                       /* 3: too few fields */
                      "Ali,Alaoui,,1990,x\n"               /* 4: too many */
                      "Ali,Ala\"oui,,1990\n"               /* 5: quote inside */
                      "\"Ali\"x,Alaoui,,1990\n"            /* 6: after closing quote */
                      "Ali,Alaoui,12,1990\n"               /* 7: a bad phone */
                      "\"Ali\nAhmed\",Alaoui,,1990\n"      /* 8-9: a line break in a name */
                      "Ali,Alaoui,,2090\n"                 /* 10: future */
                      "Ali,Alaoui,06;07;0612345678,1990\n" /* 11: phone 1 */
                      "Ali,,,\n"                           /* 12: good (one name) */
                      ",,,\n"                              /* 13: no name */
                      "\"Ali,Alaoui,,1990\n"               /* 14: quote not closed */
                      "Omar,Tazi,,1991\n";                 /* 15: good */
    n = read_all(RECORDS_PERSONS, RECORDS_CSV, bad, recs, 8, is, &ni);
    assert_int_equal(n, 3);
    assert_string_equal(recs[2].person.given_lat, "Omar");
    assert_int_equal(ni, 10);
    expect_issue(&is[0], 3, "", "2 fields, where the header has 4");
    expect_issue(&is[1], 4, "", "5 fields");
    expect_issue(&is[2], 5, "", "quote inside");
    expect_issue(&is[3], 6, "", "after the closing quote");
    expect_issue(&is[4], 7, "phones", "phone 1");
    expect_issue(&is[5], 8, "given_lat", "line break");
    expect_issue(&is[6], 10, "birth_date", "future");
    expect_issue(&is[7], 11, "phones", "phone 1");
    expect_issue(&is[8], 13, "family_lat", "required");
    expect_issue(&is[9], 14, "", "quote not closed");

    /* Lists too long, fields too long, integers. */
    char big[1200];
    snprintf(big, sizeof(big),
             "given_lat,aliases\n"
             "Ali,a;b;c;d;e\n"
             "%0100d,\n"
             "Ali,\"%0999d\"\n"
             "Ali,ok\n",
             0, 0);
    n = read_all(RECORDS_PERSONS, RECORDS_CSV, big, recs, 8, is, &ni);
    assert_int_equal(n, 1);
    assert_int_equal(ni, 3);
    expect_issue(&is[0], 2, "aliases", "more than 4 items");
    expect_issue(&is[1], 3, "given_lat", "longer than 95 bytes");
    expect_issue(&is[2], 4, "aliases", "longer than 95 bytes");

    const char *veh = "plate,year,country,vin\n"
                      "12345-A-6,2015,,\n"
                      "AB-123-CD,,fr,\n"
                      "1-B-1,20x5,,\n"
                      "1-B-1,+2015,,\n"
                      "1-B-1,99999999999999999999,,\n"
                      "1-B-1,2015,,VF1RFB00X5678901\n";
    n = read_all(RECORDS_VEHICLES, RECORDS_CSV, veh, recs, 8, is, &ni);
    assert_int_equal(n, 2);
    assert_int_equal(recs[0].vehicle.year, 2015);
    assert_string_equal(recs[0].vehicle.plate_key, "12345-A-6");
    assert_string_equal(recs[1].vehicle.plate_key, "F:FR:AB123CD");
    assert_int_equal(ni, 4);
    expect_issue(&is[0], 4, "year", "not an integer");
    expect_issue(&is[1], 5, "year", "not an integer");
    expect_issue(&is[2], 6, "year", "not an integer");
    expect_issue(&is[3], 7, "vin", "17 characters");

    /* Hotlist: a country column folds into the plate. */
    const char *hot = "kind,plate,country,reason,service,action,instructions\n"
                      "stolen,AB-123-CD,FR,vol,DGSN,seize,\"call\nthe PC\"\n"
                      "stolen,12345-A-6,,vol,DGSN,seize,\n"
                      "stolen,12345-A-6,MA,vol,DGSN,seize,\n"
                      "stolen,,FR,vol,DGSN,seize,\n"
                      "stolen,F:ES:1234,FR,vol,DGSN,seize,\n"
                      "stolen,AB-1,F1,vol,DGSN,seize,\n";
    n = read_all(RECORDS_HOTLIST, RECORDS_CSV, hot, recs, 8, is, &ni);
    assert_int_equal(n, 3);
    assert_string_equal(recs[0].hotlist.plate, "F:FR:AB-123-CD");
    assert_string_equal(recs[0].hotlist.plate_key, "F:FR:AB123CD");
    assert_string_equal(recs[0].hotlist.instructions, "call\nthe PC");
    assert_string_equal(recs[1].hotlist.plate_key, "12345-A-6");
    assert_string_equal(recs[2].hotlist.plate_key, "12345-A-6");
    assert_int_equal(ni, 3);
    expect_issue(&is[0], 6, "country", "without a plate");
    expect_issue(&is[1], 7, "country", "another country");
    expect_issue(&is[2], 8, "country", "alpha-2");
}

static void test_csv_header(void **state)
{
    (void)state;
    static union records_any recs[4];
    struct records_issue is[32];
    int ni;
    assert_int_equal(read_all(RECORDS_PERSONS, RECORDS_CSV, "", recs, 4, is, &ni), 0);
    assert_int_equal(ni, 0);
    assert_int_equal(read_all(RECORDS_PERSONS, RECORDS_CSV, "\n\n", recs, 4, is, &ni), 0);
    assert_int_equal(ni, 0);
    assert_int_equal(read_all(RECORDS_PERSONS, RECORDS_CSV, "given_lat\n", recs, 4, is, &ni), 0);
    assert_int_equal(ni, 0);
    assert_int_equal(read_all(RECORDS_PERSONS, RECORDS_CSV, "given_lat", recs, 4, is, &ni), 0);
    assert_int_equal(ni, 0);

    /* A bad header: one issue, then the end. */
    static const struct {
        const char *csv, *why;
    } bad[] = {
        {"given_lat,surname\nAli,Alaoui\n", "unknown column 'surname' for persons"},
        {"given_lat,given_lat\nAli,Ali\n", "twice"},
        {"given_lat,,family_lat\nAli,,A\n", "column 2 has no name"},
        {"\"given_lat\nAli\n", "quote not closed"},
        {"plate,kind\n", "unknown column 'plate'"},
        {"given_lat,\"a\"\"b\"\n", "unknown column 'a\"b'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = read_all(RECORDS_PERSONS, RECORDS_CSV, bad[i].csv, recs, 4, is, &ni);
        assert_int_equal(n, 0);
        assert_int_equal(ni, 1);
        expect_issue(&is[0], 1, "", bad[i].why);
    }
    /* Header names: quoted, any case, spaces around. */
    int n = read_all(RECORDS_PERSONS, RECORDS_CSV, "\" GIVEN_LAT \"\nAli\n", recs, 4, is, &ni);
    assert_int_equal(n, 1);
    assert_int_equal(ni, 0);
}

static void test_csv_long_lines(void **state)
{
    (void)state;
    static union records_any recs[4];
    struct records_issue is[32];
    int ni;
    /* A record longer than RECORDS_LINE_MAX, unquoted then quoted: skipped with an issue. */
    size_t sz = 3 * RECORDS_LINE_MAX;
    char *text = malloc(sz);
    assert_non_null(text);
    int k = snprintf(text, sz, "given_lat,birth_place\nAli,");
    memset(text + k, 'x', RECORDS_LINE_MAX + 10);
    k += RECORDS_LINE_MAX + 10;
    k += snprintf(text + k, sz - (size_t)k, "\nOmar,Fes\nAli,\"");
    memset(text + k, 'y', RECORDS_LINE_MAX + 10);
    k += RECORDS_LINE_MAX + 10;
    k += snprintf(text + k, sz - (size_t)k, "\"\nSaid,Rabat\n");
    int n = read_all(RECORDS_PERSONS, RECORDS_CSV, text, recs, 4, is, &ni);
    assert_int_equal(n, 2);
    assert_string_equal(recs[0].person.given_lat, "Omar");
    assert_string_equal(recs[1].person.given_lat, "Said");
    assert_int_equal(ni, 2);
    expect_issue(&is[0], 2, "", "longer than 16384");
    expect_issue(&is[1], 4, "", "longer than 16384");
    /* A long field that fits the line but not the struct. */
    k = snprintf(text, sz, "given_lat,birth_place\nAli,\"");
    memset(text + k, 'z', 5000);
    k += 5000;
    snprintf(text + k, sz - (size_t)k, "\"\nSaid,Rabat\n");
    n = read_all(RECORDS_PERSONS, RECORDS_CSV, text, recs, 4, is, &ni);
    assert_int_equal(n, 1);
    assert_int_equal(ni, 1);
    expect_issue(&is[0], 2, "birth_place", "longer than");
    free(text);

    /* NUL bytes and lone carriage returns are issues. */
    struct records_reader r;
    union records_any rec;
    struct records_issue one;
    const char nul[] = "given_lat\nA\0li\nOmar\n\"Sa\0id\"\nX\rY\nZak\n";
    records_reader_init(&r, RECORDS_PERSONS, RECORDS_CSV, nul, sizeof(nul) - 1);
    assert_int_equal(records_reader_next(&r, &rec, &one), AM_EINVAL);
    expect_issue(&one, 2, "", "NUL");
    assert_int_equal(records_reader_next(&r, &rec, &one), 1);
    assert_string_equal(rec.person.given_lat, "Omar");
    assert_int_equal(records_reader_next(&r, &rec, &one), AM_EINVAL);
    expect_issue(&one, 4, "given_lat", "NUL");
    assert_int_equal(records_reader_next(&r, &rec, &one), AM_EINVAL);
    expect_issue(&one, 5, "", "carriage return");
    assert_int_equal(records_reader_next(&r, &rec, &one), 1);
    assert_string_equal(rec.person.given_lat, "Zak");
    assert_int_equal(records_reader_next(&r, &rec, &one), 0);
    assert_int_equal(records_reader_next(&r, &rec, &one), 0);
}

static void test_jsonl_read(void **state)
{
    (void)state;
    static union records_any recs[8];
    struct records_issue is[32];
    int ni;
    const char *jl = "\xEF\xBB\xBF"
                     "{\"given_lat\":\"Karim\",\"family_ar\":\"بناني\",\"phones\":[\"0612345678\"],"
                     "\"aliases\":null,\"cin\":null}\r\n"
                     "\n"
                     "  \t \n"
                     "{\"given_lat\":\"Salma\",\"aliases\":[\"Sa\\\"lma\",\"S\"]}\n"
                     "{\"given_lat\":\"Ali\",\"surname\":\"x\"}\n"
                     "{\"given_lat\":\"Ali\",\"given_lat\":\"Ali\"}\n"
                     "{\"given_lat\":\"Ali\"\n"
                     "[1,2]\n"
                     "{\"given_lat\":7}\n"
                     "{\"given_lat\":\"Ali\",\"aliases\":\"A\"}\n"
                     "{\"given_lat\":\"Ali\",\"aliases\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}\n"
                     "{\"given_lat\":\"Ali\",\"aliases\":[\"a\",2]}\n"
                     "{\"given_lat\":\"Al\\u0000i\"}\n"
                     "{\"given_lat\":\"Al\xffi\"}\n"
                     "{\"given_lat\":\"Ali\",\"phones\":[\"12\"]}\n"
                     "{}\n"
                     "{\"given_lat\":\"Omar\"}"; /* no newline at the end */
    int n = read_all(RECORDS_PERSONS, RECORDS_JSONL, jl, recs, 8, is, &ni);
    assert_int_equal(n, 3);
    assert_string_equal(recs[0].person.family_ar, "بناني");
    assert_string_equal(recs[0].person.phones[0], "+212612345678");
    assert_string_equal(recs[1].person.aliases[0], "Sa\"lma");
    assert_string_equal(recs[2].person.given_lat, "Omar");
    assert_int_equal(ni, 12);
    expect_issue(&is[0], 5, "", "unknown field 'surname'");
    expect_issue(&is[1], 6, "", "duplicate");
    expect_issue(&is[2], 7, "", "malformed JSON");
    expect_issue(&is[3], 8, "", "object");
    expect_issue(&is[4], 9, "given_lat", "must be a string");
    expect_issue(&is[5], 10, "aliases", "array of strings");
    expect_issue(&is[6], 11, "aliases", "more than 4 items");
    expect_issue(&is[7], 12, "aliases", "array of strings");
    expect_issue(&is[8], 13, "", "NUL character");
    expect_issue(&is[9], 14, "", "not valid UTF-8");
    expect_issue(&is[10], 15, "phones", "phone 1");
    expect_issue(&is[11], 16, "family_lat", "required");

    const char *veh = "{\"plate\":\"12345 أ 6\",\"year\":2015}\n"
                      "{\"plate\":\"12345 أ 6\",\"year\":\"2015\"}\n"
                      "{\"plate\":\"12345 أ 6\",\"year\":2015.5}\n"
                      "{\"plate\":\"12345 أ 6\",\"year\":99999999999}\n"
                      "{\"plate\":\"12345 أ 6\",\"year\":null}\n";
    n = read_all(RECORDS_VEHICLES, RECORDS_JSONL, veh, recs, 8, is, &ni);
    assert_int_equal(n, 2);
    assert_int_equal(recs[0].vehicle.year, 2015);
    assert_int_equal(recs[1].vehicle.year, 0);
    assert_int_equal(ni, 3);
    expect_issue(&is[0], 2, "year", "integer");
    expect_issue(&is[1], 3, "year", "integer");
    expect_issue(&is[2], 4, "year", "out of range");

    const char *hot = "{\"kind\":\"stolen\",\"plate\":\"AB-1\",\"country\":\"fr\",\"reason\":\"r\","
                      "\"service\":\"s\",\"action\":\"seize\"}\n"
                      "{\"kind\":\"wanted\",\"person_id\":12,\"reason\":\"r\","
                      "\"service\":\"s\",\"action\":\"arrest\"}\n"
                      "{\"kind\":\"wanted\",\"person_id\":\"12\",\"reason\":\"r\","
                      "\"service\":\"s\",\"action\":\"arrest\"}\n";
    n = read_all(RECORDS_HOTLIST, RECORDS_JSONL, hot, recs, 8, is, &ni);
    assert_int_equal(n, 2);
    assert_string_equal(recs[0].hotlist.plate_key, "F:FR:AB1");
    assert_int_equal(recs[1].hotlist.person_id, 12);
    assert_int_equal(ni, 1);
    expect_issue(&is[0], 3, "person_id", "integer");

    /* A line longer than RECORDS_LINE_MAX. */
    size_t sz = RECORDS_LINE_MAX + 200;
    char *text = malloc(sz);
    assert_non_null(text);
    int k = snprintf(text, sz, "{\"given_lat\":\"");
    memset(text + k, 'a', RECORDS_LINE_MAX);
    k += RECORDS_LINE_MAX;
    snprintf(text + k, sz - (size_t)k, "\"}\n{\"given_lat\":\"Ali\"}\n");
    n = read_all(RECORDS_PERSONS, RECORDS_JSONL, text, recs, 8, is, &ni);
    assert_int_equal(n, 1);
    assert_int_equal(ni, 1);
    expect_issue(&is[0], 1, "", "longer than 16384");
    /* Nesting as deep as a line allows: refused, without a crash. */
    k = snprintf(text, sz, "{\"given_lat\":");
    memset(text + k, '[', 8000);
    k += 8000;
    snprintf(text + k, sz - (size_t)k, "\n{\"given_lat\":\"Ali\"}\n");
    n = read_all(RECORDS_PERSONS, RECORDS_JSONL, text, recs, 8, is, &ni);
    assert_int_equal(n, 1);
    assert_int_equal(ni, 1);
    expect_issue(&is[0], 1, "", "malformed JSON");
    free(text);
}

/* ------------------------------------------------------------ writers, round trip */

static const char *const lat_names[] = {"Mohamed", "Fatima-Zahra",   "N'Diaye", "Saïd",
                                        "O’Neil",  "Aït Ben Haddou", "Hélène",  "Youssef"};
static const char *const ar_names[] = {"محمد", "فاطمة الزهراء", "عبد الرحمن", "سعيد",
                                       "آيت",  "مُحَمَّد",          "هـشام",      "يوسف"};
static const char *const texts[] = {
    "12, rue d'Ifni",       "Bd \"Zerktouni\", 3e étage", "Derb Sultan",     "حي الرياض, الرباط",
    "a \"quoted\" \\ back", "commas, commas, commas",     "  spaced  out  ", "Lot. 7/B"};

/* A varied set of records of each kind, checked (so that they are what a reader yields). */
static void make_person(int i, struct records_person *p)
{
    memset(p, 0, sizeof(*p));
    if (i % 3 != 0)
        snprintf(p->cin, sizeof(p->cin), "%s%d", i % 2 ? "BE" : "A", 100000 + i);
    if (i % 5 != 1)
        am_strlcpy(p->given_lat, lat_names[i % 8], sizeof(p->given_lat));
    if (i % 4 != 2)
        am_strlcpy(p->family_ar, ar_names[(i / 3) % 8], sizeof(p->family_ar));
    if (i % 2)
        am_strlcpy(p->given_ar, ar_names[i % 8], sizeof(p->given_ar));
    if (i % 7 == 0)
        am_strlcpy(p->father_lat, lat_names[(i / 7) % 8], sizeof(p->father_lat));
    if (i % 5 == 1)
        am_strlcpy(p->family_lat, lat_names[(i / 5) % 8], sizeof(p->family_lat));
    p->naliases = i % 5;
    for (int k = 0; k < p->naliases; k++)
        snprintf(p->aliases[k], sizeof(p->aliases[k]), "%s %s", k % 2 ? "Abu" : "أبو",
                 k % 2 ? lat_names[(i + k) % 8] : ar_names[(i + k) % 8]);
    if (i % 6)
        snprintf(p->birth_date, sizeof(p->birth_date), i % 3 ? "%04d-%02d-%02d" : "%04d",
                 1940 + i % 70, 1 + i % 12, 1 + i % 28);
    am_strlcpy(p->birth_place, i % 2 ? "Casablanca" : "الدار البيضاء", sizeof(p->birth_place));
    am_strlcpy(p->nationality, i % 9 ? "MAR" : "fra", sizeof(p->nationality));
    am_strlcpy(p->sex, i % 3 == 0 ? "" : i % 3 == 1 ? "M" : "f", sizeof(p->sex));
    p->naddresses = i % 4;
    for (int k = 0; k < p->naddresses; k++)
        am_strlcpy(p->addresses[k], texts[(i + k) % 8], sizeof(p->addresses[k]));
    p->nphones = i % 5;
    for (int k = 0; k < p->nphones; k++)
        snprintf(p->phones[k], sizeof(p->phones[k]), k % 2 ? "+33 6 %08d" : "06 %08d",
                 10000000 + i * 7 + k);
    char f[24], why[160];
    int rc = records_person_check(p, f, why, sizeof(why));
    if (rc)
        print_error("person %d: %s: %s\n", i, f, why);
    assert_int_equal(rc, 0);
}

static void make_vehicle(int i, struct records_vehicle *v)
{
    static const char *const plates[] = {"%d | أ | 6", "%d-B-12",  "%dد40",  "WW %d",
                                         "CD 12-%d",   "AB-%d-CD", "%d ط 1", "%d-هـ-89"};
    memset(v, 0, sizeof(*v));
    snprintf(v->plate, sizeof(v->plate), plates[i % 8], 1 + i % 99999);
    if (i % 8 == 5)
        am_strlcpy(v->country, i % 16 == 5 ? "FR" : "es", sizeof(v->country));
    if (i % 3)
        snprintf(v->vin, sizeof(v->vin), "VF1RFB00X%08d", i);
    am_strlcpy(v->make, i % 2 ? "Dacia" : "Renault, \"Trafic\"", sizeof(v->make));
    am_strlcpy(v->model, i % 4 ? "Logan" : "", sizeof(v->model));
    am_strlcpy(v->colour, i % 3 ? "blanc" : "أبيض", sizeof(v->colour));
    v->year = i % 5 ? 1990 + i % 30 : 0;
    if (i % 2)
        snprintf(v->owner_cin, sizeof(v->owner_cin), "BK%d", 10000 + i);
    char f[24], why[160];
    int rc = records_vehicle_check(v, f, why, sizeof(why));
    if (rc)
        print_error("vehicle %d: %s: %s\n", i, f, why);
    assert_int_equal(rc, 0);
}

static void make_hotlist(int i, struct records_hotlist *h)
{
    static const char *const kinds[] = {"wanted", "stolen", "missing"};
    static const char *const actions[] = {"arrest", "seize", "protect", "report", "stop_check"};
    memset(h, 0, sizeof(*h));
    am_strlcpy(h->kind, kinds[i % 3], sizeof(h->kind));
    if (i % 3 == 1) {
        if (i % 4)
            snprintf(h->plate, sizeof(h->plate), i % 8 == 1 ? "F:FR:AB-%d" : "%d-A-6", 1 + i);
        if (i % 4 == 0 || i % 5 == 0)
            snprintf(h->vin, sizeof(h->vin), "WVWZZZ1JZ%08d", i);
    } else if (i % 2) {
        snprintf(h->cin, sizeof(h->cin), "J%d", 200000 + i);
    } else {
        h->person_id = 1000 + i;
        if (i % 4 == 0)
            snprintf(h->cin, sizeof(h->cin), "J%d", 200000 + i);
    }
    am_strlcpy(h->reason, texts[i % 8], sizeof(h->reason));
    am_strlcpy(h->service, i % 2 ? "DGSN, Casablanca" : "Gendarmerie Royale", sizeof(h->service));
    if (i % 2)
        am_strlcpy(h->valid_from, "2024-01-01", sizeof(h->valid_from));
    if (i % 3)
        am_strlcpy(h->valid_until, "2031-06-30", sizeof(h->valid_until));
    am_strlcpy(h->action, actions[i % 5], sizeof(h->action));
    if (i % 4)
        am_strlcpy(h->instructions, i % 2 ? "Line one,\nline \"two\"\n\nthree" : "Do not approach",
                   sizeof(h->instructions));
    char f[24], why[160];
    int rc = records_hotlist_check(h, f, why, sizeof(why));
    if (rc)
        print_error("hotlist %d: %s: %s\n", i, f, why);
    assert_int_equal(rc, 0);
}

static void make_record(enum records_kind kind, int i, union records_any *r)
{
    memset(r, 0, sizeof(*r));
    if (kind == RECORDS_PERSONS)
        make_person(i, &r->person);
    else if (kind == RECORDS_VEHICLES)
        make_vehicle(i, &r->vehicle);
    else
        make_hotlist(i, &r->hotlist);
}

static void test_round_trip(void **state)
{
    (void)state;
    enum { N = 600 };
    static union records_any made[N];
    for (int kind = 0; kind < 3; kind++) {
        for (int fmt = 0; fmt < 2; fmt++) {
            struct am_buf out;
            am_buf_init(&out, 0);
            if (fmt == RECORDS_CSV)
                assert_int_equal(records_write_header(&out, (enum records_kind)kind), 0);
            for (int i = 0; i < N; i++) {
                make_record((enum records_kind)kind, i, &made[i]);
                assert_int_equal(records_write(&out, (enum records_kind)kind,
                                               (enum records_format)fmt, &made[i]),
                                 0);
            }
            struct records_reader r;
            records_reader_init(&r, (enum records_kind)kind, (enum records_format)fmt, out.data,
                                out.len);
            for (int i = 0; i < N; i++) {
                union records_any back;
                struct records_issue is;
                int rc = records_reader_next(&r, &back, &is);
                if (rc != 1)
                    print_error("kind %d format %d record %d: line %lld %s: %s\n", kind, fmt, i,
                                (long long)is.line, is.field, is.why);
                assert_int_equal(rc, 1);
                assert_memory_equal(&back, &made[i], sizeof(back));
            }
            union records_any back;
            struct records_issue is;
            assert_int_equal(records_reader_next(&r, &back, &is), 0);
            am_buf_release(&out);
        }
    }
}

static void test_writers(void **state)
{
    (void)state;
    struct am_buf out;
    am_buf_init(&out, 0);
    assert_int_equal(records_write_header(&out, RECORDS_PERSONS), 0);
    assert_string_equal(out.data, "cin,given_ar,family_ar,father_ar,given_lat,family_lat,"
                                  "father_lat,aliases,birth_date,birth_place,nationality,sex,"
                                  "addresses,phones\n");
    out.len = 0;
    assert_int_equal(records_write_header(&out, RECORDS_VEHICLES), 0);
    assert_string_equal(out.data, "plate,country,vin,make,model,colour,year,owner_cin\n");
    out.len = 0;
    assert_int_equal(records_write_header(&out, RECORDS_HOTLIST), 0);
    assert_string_equal(out.data, "kind,cin,person_id,plate,vin,reason,service,valid_from,"
                                  "valid_until,action,instructions\n");

    union records_any r;
    memset(&r, 0, sizeof(r));
    am_strlcpy(r.person.given_lat, "Ali", sizeof(r.person.given_lat));
    am_strlcpy(r.person.birth_place, "Fès, \"Médina\"", sizeof(r.person.birth_place));
    r.person.naliases = 2;
    am_strlcpy(r.person.aliases[0], "A", sizeof(r.person.aliases[0]));
    am_strlcpy(r.person.aliases[1], "B,C", sizeof(r.person.aliases[1]));
    out.len = 0;
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_CSV, &r), 0);
    assert_string_equal(out.data, ",,,,Ali,,,\"A;B,C\",,\"Fès, \"\"Médina\"\"\",,,,\n");
    out.len = 0;
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_JSONL, &r), 0);
    assert_string_equal(out.data, "{\"given_lat\":\"Ali\",\"aliases\":[\"A\",\"B,C\"],"
                                  "\"birth_place\":\"Fès, \\\"Médina\\\"\"}\n");

    /* Broken records: nothing written. */
    out.len = 0;
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_JSONL, &r), 0);
    size_t len = out.len;
    memset(r.person.given_lat, 'x', sizeof(r.person.given_lat));
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_CSV, &r), AM_EINVAL);
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_JSONL, &r), AM_EINVAL);
    assert_int_equal(out.len, len);
    am_strlcpy(r.person.given_lat, "Al\xff", sizeof(r.person.given_lat));
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_JSONL, &r), AM_EINVAL);
    am_strlcpy(r.person.given_lat, "Ali", sizeof(r.person.given_lat));
    r.person.nphones = 9;
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_CSV, &r), AM_EINVAL);
    assert_int_equal(records_write(&out, RECORDS_PERSONS, RECORDS_JSONL, &r), AM_EINVAL);
    assert_int_equal(out.len, len);
    assert_int_equal(records_write(&out, (enum records_kind)9, RECORDS_CSV, &r), AM_EINVAL);

    /* A control character is escaped in JSON (such a record never passes a check). */
    memset(&r, 0, sizeof(r));
    am_strlcpy(r.hotlist.instructions, "a\tb\x01", sizeof(r.hotlist.instructions));
    out.len = 0;
    assert_int_equal(records_write(&out, RECORDS_HOTLIST, RECORDS_JSONL, &r), 0);
    assert_string_equal(out.data, "{\"instructions\":\"a\\tb\\u0001\"}\n");
    am_buf_release(&out);
}

/* Appends person i as a line of `format`. */
static void append_person(struct am_buf *out, enum records_format format, int i)
{
    union records_any r;
    make_person(i, &r.person);
    snprintf(r.person.cin, sizeof(r.person.cin), "ZZ%d", 100000 + i); /* unique */
    assert_int_equal(records_write(out, RECORDS_PERSONS, format, &r), 0);
}

static int64_t lines_in(const struct am_buf *b)
{
    int64_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

/*
 * The check of a large import (dry run) is read by two threads, split past
 * the middle: the counts and the issues' lines are those of one reading,
 * also when the split falls inside a quoted field that holds newlines.
 */
static void test_import_check_in_two_parts(void **state)
{
    (void)state;
    for (int format = RECORDS_CSV; format <= RECORDS_JSONL; format++) {
        struct am_buf out;
        am_buf_init(&out, 0);
        if (format == RECORDS_CSV)
            assert_int_equal(records_write_header(&out, RECORDS_PERSONS), 0);
        int n = 0;
        int64_t bad_line[2] = {0, 0};
        int nbad = 0;
        while (out.len < ((size_t)5 << 20)) {
            /* A bad CIN, in the first fifth and in the last. */
            if (nbad < 2 && out.len >= (nbad ? (size_t)4 << 20 : (size_t)1 << 20)) {
                bad_line[nbad++] = lines_in(&out) + 1;
                const char *line = format == RECORDS_CSV
                                       ? "1ZZ,,,,Omar,Tazi,,,,,,,,\n"
                                       : "{\"cin\":\"1ZZ\",\"given_lat\":\"Omar\"}\n";
                assert_int_equal(am_buf_append(&out, line, strlen(line)), 0);
            }
            append_person(&out, (enum records_format)format, n++);
        }
        struct records_import_result res;
        assert_int_equal(records_import(NULL, "t", RECORDS_PERSONS, (enum records_format)format,
                                        out.data, out.len, true, &res),
                         AM_EINVAL);
        assert_int_equal(res.records, n);
        assert_int_equal(res.bad, 2);
        assert_int_equal(json_array_size(res.issues), 2);
        for (size_t i = 0; i < 2; i++)
            assert_int_equal(
                json_integer_value(json_object_get(json_array_get(res.issues, i), "line")),
                bad_line[i]);
        json_decref(res.issues);
        am_buf_release(&out);
    }

    /* CSV: a record whose quoted field holds newlines, across the middle. */
    struct am_buf first, second, out;
    am_buf_init(&first, 0);
    am_buf_init(&second, 0);
    am_buf_init(&out, 0);
    assert_int_equal(records_write_header(&first, RECORDS_PERSONS), 0);
    int n = 0;
    while (first.len < ((size_t)3 << 20))
        append_person(&first, RECORDS_CSV, n++);
    char multi[1200];
    size_t m = (size_t)snprintf(multi, sizeof(multi), "ZZ1,,,,Omar,Tazi,,,,,,,\"");
    for (int k = 0; k < 20; k++) /* 20 bytes a line, newlines in quotes */
        m += (size_t)snprintf(multi + m, sizeof(multi) - m, "Derb Sultan, rue 12\n");
    m += (size_t)snprintf(multi + m, sizeof(multi) - m, "\",\n");
    while (second.len + 400 < first.len)
        append_person(&second, RECORDS_CSV, n++);
    size_t total = first.len + m + second.len, mid = total / 2;
    assert_true(mid > first.len + 40 && mid < first.len + m - 40);
    assert_int_equal(am_buf_append(&out, first.data, first.len), 0);
    assert_int_equal(am_buf_append(&out, multi, m), 0);
    assert_int_equal(am_buf_append(&out, second.data, second.len), 0);
    struct records_import_result res;
    assert_int_equal(
        records_import(NULL, "t", RECORDS_PERSONS, RECORDS_CSV, out.data, out.len, true, &res),
        AM_EINVAL);
    assert_int_equal(res.records, n);
    assert_int_equal(res.bad, 1); /* newlines are not allowed in an address */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res.issues, 0), "line")),
                     lines_in(&first) + 1);
    json_decref(res.issues);
    am_buf_release(&first);
    am_buf_release(&second);
    am_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plate_moroccan),
        cmocka_unit_test(test_plate_ww_diplomatic_foreign),
        cmocka_unit_test(test_plate_variants),
        cmocka_unit_test(test_cin),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_check_person),
        cmocka_unit_test(test_check_vehicle),
        cmocka_unit_test(test_check_hotlist),
        cmocka_unit_test(test_kind_format_parse),
        cmocka_unit_test(test_csv_read),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_import_check_in_two_parts),
        cmocka_unit_test(test_csv_long_lines),
        cmocka_unit_test(test_jsonl_read),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
