/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_time.c - fuzzes the RFC 3339 reader am_time_parse() (query arguments
 * such as ?since=, timestamps in bodies) and its writer am_time_fmt().
 *
 * It asserts three things. (1) am_time_parse agrees with a reference
 * written here from the grammar, which computes the instant with timegm():
 * both accept the same strings and give the same microseconds. (2) Every
 * accepted instant that lies in years 0000-9999 (the only ones RFC 3339 can
 * write) is formatted to text that parses back to the same instant; an
 * offset can move an instant out of that range, so nothing is claimed there.
 * (3) A UTC input ('Z') with at most six fraction digits and no leap second
 * is written back as the same text up to case and the zero padding of the
 * fraction. Longer fractions are truncated to microseconds and second 60 is
 * clamped to 59 by design, so (3) is not claimed for them; (2) still is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

#define MAX_INPUT 256
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds. */
#define MIN_RFC3339_US (-62167219200LL * 1000000)
#define MAX_RFC3339_US (253402300799LL * 1000000 + 999999)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref_time {
    int y, mo, d, h, mi, sec;
    int frac_digits; /* digits after '.', 0 if none */
    bool utc;        /* 'Z' or 'z' */
    int64_t us;
};

static void fail(const char *what, const char *input, const char *detail)
{
    fprintf(stderr, "fuzz_time: %s: input '%s' %s\n", what, input, detail ? detail : "");
    abort();
}

static bool ref_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int ref_days_in_month(int y, int mo)
{
    switch (mo) {
    case 2:
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
        return 30;
    default:
        return 31;
    }
}

/* The grammar of am_time_parse, read from its documentation, and timegm(). */
static bool ref_parse(const char *s, struct ref_time *t)
{
    size_t n = strlen(s);
    if (n < 20)
        return false;
    if (!ref_digits(s, 4, &t->y) || s[4] != '-' || !ref_digits(s + 5, 2, &t->mo) || s[7] != '-' ||
        !ref_digits(s + 8, 2, &t->d) || (s[10] != 'T' && s[10] != 't') ||
        !ref_digits(s + 11, 2, &t->h) || s[13] != ':' || !ref_digits(s + 14, 2, &t->mi) ||
        s[16] != ':' || !ref_digits(s + 17, 2, &t->sec))
        return false;
    if (t->mo < 1 || t->mo > 12 || t->d < 1 || t->d > ref_days_in_month(t->y, t->mo) || t->h > 23 ||
        t->mi > 59 || t->sec > 60)
        return false;
    size_t i = 19;
    int64_t frac = 0;
    t->frac_digits = 0;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (t->frac_digits < 6)
                frac = frac * 10 + (s[i] - '0');
            t->frac_digits++;
            i++;
        }
        if (t->frac_digits == 0)
            return false;
        for (int k = t->frac_digits; k < 6; k++)
            frac *= 10;
    }
    int64_t off_s = 0;
    t->utc = s[i] == 'Z' || s[i] == 'z';
    if (t->utc) {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (n - i < 6 || !ref_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !ref_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return false;
    }
    if (i != n)
        return false;
    struct tm tm = {0};
    tm.tm_year = t->y - 1900;
    tm.tm_mon = t->mo - 1;
    tm.tm_mday = t->d;
    tm.tm_hour = t->h;
    tm.tm_min = t->mi;
    tm.tm_sec = t->sec == 60 ? 59 : t->sec; /* amane clamps leap seconds */
    time_t secs = timegm(&tm);
    t->us = ((int64_t)secs - off_s) * 1000000 + frac;
    /* Instants outside years 0000..9999 UTC cannot be written back: both refuse them. */
    int64_t instant = (int64_t)secs - off_s;
    if (instant < -62167219200LL || instant > 253402300799LL)
        return false;
    return true;
}

/* The text am_time_fmt must write for a UTC input with at most six fraction digits. */
static void expected_text(const char *s, const struct ref_time *t, char *out, size_t outsz)
{
    char frac[7] = "000000";
    if (t->frac_digits)
        memcpy(frac, s + 20, (size_t)t->frac_digits);
    snprintf(out, outsz, "%.10sT%.8s.%sZ", s, s + 11, frac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char s[MAX_INPUT + 1];
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t us = 0;
    struct ref_time ref;
    bool ok = am_time_parse(s, &us) == 0;
    bool ref_ok = ref_parse(s, &ref);
    if (ok != ref_ok)
        fail(ok ? "accepted, the reference refuses" : "refused, the reference accepts", s, NULL);
    if (!ok)
        return 0;
    char detail[160];
    if (us != ref.us) {
        snprintf(detail, sizeof(detail), "gives %lld, the reference %lld", (long long)us,
                 (long long)ref.us);
        fail("wrong instant", s, detail);
    }

    char buf[AM_TIME_BUFSZ];
    am_time_fmt(us, buf, sizeof(buf));
    if (us >= MIN_RFC3339_US && us <= MAX_RFC3339_US) {
        int64_t again = 0;
        if (am_time_parse(buf, &again) != 0 || again != us) {
            snprintf(detail, sizeof(detail), "formatted as '%s', read back as %lld", buf,
                     (long long)again);
            fail("round trip changed the instant", s, detail);
        }
    }
    if (ref.utc && ref.frac_digits <= 6 && ref.sec != 60) {
        char want[AM_TIME_BUFSZ + 8];
        expected_text(s, &ref, want, sizeof(want));
        if (strcmp(buf, want) != 0) {
            snprintf(detail, sizeof(detail), "formatted as '%s', expected '%s'", buf, want);
            fail("UTC text did not round-trip", s, detail);
        }
    }
    return 0;
}
