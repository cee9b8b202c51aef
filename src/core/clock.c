/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * clock.c - UTC microsecond wall clock, monotonic clock, and RFC 3339
 * formatting and parsing. Offsets such as Africa/Casablanca's are the
 * user interface's business; everything stored is UTC.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

int64_t am_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t am_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *am_time_fmt(int64_t us, char *buf, size_t bufsz)
{
    time_t secs = (time_t)(us / 1000000);
    int64_t frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, bufsz, "invalid");
        return buf;
    }
    snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    return buf;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return AM_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int am_time_parse(const char *s, int64_t *us_out)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20)
        return AM_EINVAL;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return AM_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return AM_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return AM_EINVAL;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (nd < 6) {
                frac = frac * 10 + (*p - '0');
                nd++;
            }
            p++;
        }
        if (nd == 0)
            return AM_EINVAL;
        while (nd++ < 6)
            frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return AM_EINVAL;
        off = (int64_t)(oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return AM_EINVAL;
    }
    if (*p)
        return AM_EINVAL;
    if (sec == 60)
        sec = 59; /* leap second: clamp, we do not model them */
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    /* Only instants am_time_fmt can write back: years 0000 to 9999 in UTC. */
    if (t < -62167219200LL || t > 253402300799LL)
        return AM_EINVAL;
    *us_out = t * 1000000 + frac;
    return 0;
}

static long offset_at(time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

int am_tz_spans(const char *zone, int64_t from_us, int64_t to_us, struct am_tz_span *out,
                size_t max, size_t *n)
{
    char path[256];
    *n = 0;
    /* glibc falls back to UTC for an unknown zone: check that the zone exists. */
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    if (strstr(zone, "..") || access(path, R_OK) || max == 0)
        return AM_ENOTFOUND;
    const char *old = getenv("TZ");
    char saved[256] = "";
    if (old)
        am_strlcpy(saved, old, sizeof(saved));
    setenv("TZ", zone, 1);
    tzset();
    time_t t = (time_t)(from_us / 1000000), end = (time_t)(to_us / 1000000);
    long cur = offset_at(t);
    out[(*n)++] = (struct am_tz_span){from_us, (int32_t)cur};
    const time_t step = 900; /* transitions happen on the quarter hour or hour */
    for (time_t s = t + step; s <= end && *n < max; s += step) {
        long off = offset_at(s);
        if (off == cur)
            continue;
        /* Binary search for the first second of the new offset. */
        time_t lo = s - step, hi = s;
        while (hi - lo > 1) {
            time_t mid = lo + (hi - lo) / 2;
            if (offset_at(mid) == cur)
                lo = mid;
            else
                hi = mid;
        }
        out[(*n)++] = (struct am_tz_span){(int64_t)hi * 1000000, (int32_t)off};
        cur = off;
    }
    if (old)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    return 0;
}
