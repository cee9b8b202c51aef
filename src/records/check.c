/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * check.c - validation of one person, vehicle or hotlist entry before it is
 * written, by an import (format.c) or the API: required fields present,
 * every field well formed, and normalisation in place, so that the store
 * and the indexes only ever hold one spelling of a CIN, a plate, a phone.
 * Each failure names the field and says why in one line; those reasons reach
 * the users in validation reports.
 *
 * Rules, beyond records.h:
 * - Every string field must end within its array; text is valid UTF-8
 *   without control characters (C0, DEL, C1, line and paragraph
 *   separators, invisible direction marks and embeddings, BOM); spaces at
 *   either end are trimmed. Only `instructions` may hold line breaks.
 * - Names in Arabic script (_ar) hold Arabic letters (harakat, tatweel, ZWNJ
 *   allowed) and no Latin letter; names in Latin script (_lat) hold Latin
 *   letters, accented or not, and no Arabic letter. Both may hold spaces,
 *   hyphens and apostrophes, neither digits nor other punctuation. Aliases
 *   are text with at least one letter, in either script; the birth place is
 *   text.
 * - An item of a list (aliases, addresses, phones) is never empty and never
 *   holds ';': CSV joins list items with ';' (format.c), so that every
 *   record accepted from JSON lines can also be written as CSV.
 * - Dates are real calendar dates from 1900 on; a birth date (YYYY,
 *   YYYY-MM or YYYY-MM-DD) is not after today (today anywhere: UTC+14).
 * - Nationality: three letters, upper-cased; "" is unknown (no default).
 * - Strings are zero-filled past their end after normalisation, so that
 *   two checked records compare equal with memcmp.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "records/plate.h"
#include "records/records.h"

#define FIELD_SZ 24

static int bad(char *field, const char *name, char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int bad(char *field, const char *name, char *why, size_t whysz, const char *fmt, ...)
{
    if (field)
        am_strlcpy(field, name, FIELD_SZ);
    if (why && whysz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return AM_EINVAL;
}

/* Replaces the string in dst[sz] by src[n] (which may overlap it), zero-filling the rest. */
static void str_set(char *dst, size_t sz, const char *src, size_t n)
{
    memmove(dst, src, n);
    memset(dst + n, 0, sz - n);
}

/* The length of the string in s[sz], or -1 if it does not end there. */
static long str_len(const char *s, size_t sz)
{
    const char *e = memchr(s, '\0', sz);
    return e ? e - s : -1;
}

/* ------------------------------------------------------------ characters */

enum cclass {
    CC_LATIN,
    CC_ARABIC,
    CC_MARK,  /* combining marks of Latin script */
    CC_AMARK, /* harakat, tatweel, ZWNJ, ZWJ */
    CC_SPACE,
    CC_APOS,
    CC_HYPHEN,
    CC_DIGIT,
    CC_CONTROL,
    CC_OTHER,
};

static enum cclass char_class(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return CC_LATIN;
        if (cp >= '0' && cp <= '9')
            return CC_DIGIT;
        if (cp < 0x20 || cp == 0x7f)
            return CC_CONTROL;
        if (cp == ' ')
            return CC_SPACE;
        if (cp == '\'')
            return CC_APOS;
        if (cp == '-')
            return CC_HYPHEN;
        return CC_OTHER;
    }
    /* The letters of Arabic names first: most of what is not ASCII. */
    if ((cp >= 0x0621 && cp <= 0x063a) || (cp >= 0x0641 && cp <= 0x064a))
        return CC_ARABIC;
    if (cp <= 0x9f)
        return CC_CONTROL;
    if ((cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) || (cp >= 0x1e00 && cp <= 0x1eff))
        return CC_LATIN;
    if (cp >= 0x300 && cp <= 0x36f)
        return CC_MARK;
    if ((cp >= 0x0620 && cp <= 0x063f) || (cp >= 0x0641 && cp <= 0x064a) ||
        (cp >= 0x066e && cp <= 0x066f) || (cp >= 0x0671 && cp <= 0x06d3) || cp == 0x06d5 ||
        (cp >= 0x06ee && cp <= 0x06ef) || (cp >= 0x06fa && cp <= 0x06fc) || cp == 0x06ff ||
        (cp >= 0x0750 && cp <= 0x077f) || (cp >= 0x08a0 && cp <= 0x08c9) ||
        (cp >= 0xfb50 && cp <= 0xfdfb) || (cp >= 0xfe70 && cp <= 0xfefc))
        return CC_ARABIC;
    if ((cp >= 0x0610 && cp <= 0x061a) || cp == 0x0640 || (cp >= 0x064b && cp <= 0x065f) ||
        cp == 0x0670 || (cp >= 0x06d6 && cp <= 0x06ed) || (cp >= 0x08ca && cp <= 0x08ff) ||
        cp == 0x200c || cp == 0x200d)
        return CC_AMARK;
    if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06f0 && cp <= 0x06f9))
        return CC_DIGIT;
    if (cp == 0x2019 || cp == 0x2018 || (cp >= 0x02bb && cp <= 0x02bf))
        return CC_APOS;
    if (cp == 0x2010 || cp == 0x2011)
        return CC_HYPHEN;
    if (cp == 0x2028 || cp == 0x2029 || cp == 0x200b || cp == 0x200e || cp == 0x200f ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
        (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xfffe || cp == 0xffff || cp == 0x061c)
        return CC_CONTROL;
    return CC_OTHER;
}

/* What a text holds, from one pass over it. */
struct text_info {
    bool latin, arabic, digit, mark, amark, semicolon;
    uint32_t other; /* the first character that is not part of a name, 0 if none */
};

/*
 * Checks and trims the text field s[sz] in place: it must end there, be
 * UTF-8 without control characters ('\n' allowed if newline_ok). Fills *ti.
 * Sets *len. Returns 0 or AM_EINVAL with the reason.
 */
static int text_field(char *s, size_t sz, bool newline_ok, const char *name, size_t *len,
                      struct text_info *ti, char *field, char *why, size_t whysz)
{
    memset(ti, 0, sizeof(*ti));
    long n = str_len(s, sz);
    if (n < 0)
        return bad(field, name, why, whysz, "longer than %zu bytes", sz - 1);
    size_t b = 0, e = (size_t)n;
    while (b < e && s[b] == ' ')
        b++;
    while (e > b && s[e - 1] == ' ')
        e--;
    if (b || e < (size_t)n)
        str_set(s, sz, s + b, e - b);
    *len = e - b;
    for (size_t i = 0; i < *len;) {
        uint32_t cp;
        unsigned char c = (unsigned char)s[i];
        /* Imports check millions of names: ASCII letters and two-byte UTF-8 inline. */
        if (c < 0x80) {
            i++;
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
                ti->latin = true;
                continue;
            }
            if (c == ' ')
                continue;
            cp = c;
        } else if (c >= 0xc2 && c < 0xe0 && i + 1 < *len &&
                   ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
            cp = ((uint32_t)(c & 0x1f) << 6) | ((unsigned char)s[i + 1] & 0x3f);
            i += 2;
        } else {
            size_t k = am_utf8_decode(s + i, *len - i, &cp);
            if (!k)
                return bad(field, name, why, whysz, "not valid UTF-8");
            i += k;
        }
        switch (char_class(cp)) {
        case CC_LATIN:
            ti->latin = true;
            break;
        case CC_ARABIC:
            ti->arabic = true;
            break;
        case CC_MARK:
            ti->mark = true;
            break;
        case CC_AMARK:
            ti->amark = true;
            break;
        case CC_DIGIT:
            ti->digit = true;
            break;
        case CC_SPACE:
        case CC_APOS:
        case CC_HYPHEN:
            break;
        case CC_CONTROL:
            if (cp == '\n' && newline_ok)
                break;
            if (cp == '\n' || cp == '\r')
                return bad(field, name, why, whysz, "contains a line break");
            if (cp == '\t')
                return bad(field, name, why, whysz, "contains a tab");
            return bad(field, name, why, whysz,
                       "contains an invisible or control character (U+%04X)", (unsigned)cp);
        case CC_OTHER:
            if (cp == ';')
                ti->semicolon = true;
            if (!ti->other)
                ti->other = cp;
            break;
        }
    }
    return 0;
}

/* Describes code point cp for a reason: "'@'" or "U+00A0". */
static void cp_name(uint32_t cp, char *buf, size_t sz)
{
    if (cp > 0x20 && cp < 0x7f)
        snprintf(buf, sz, "'%c'", (char)cp);
    else
        snprintf(buf, sz, "U+%04X", (unsigned)cp);
}

enum script { SCRIPT_AR, SCRIPT_LAT };

/* A name field in one script; `other` names the field for the other script, for the reason. */
static int name_field(char *s, size_t sz, const char *name, enum script script, const char *other,
                      char *field, char *why, size_t whysz)
{
    size_t len;
    struct text_info ti;
    int rc = text_field(s, sz, false, name, &len, &ti, field, why, whysz);
    if (rc || len == 0)
        return rc;
    if (ti.digit)
        return bad(field, name, why, whysz, "a name has no digits");
    if (ti.other) {
        char c[16];
        cp_name(ti.other, c, sizeof(c));
        return bad(field, name, why, whysz,
                   "%s is not part of a name (letters, spaces, hyphens, apostrophes)", c);
    }
    if (script == SCRIPT_AR) {
        if (ti.latin || ti.mark)
            return bad(field, name, why, whysz, "Latin letters in an Arabic-script name (use %s)",
                       other);
        if (!ti.arabic)
            return bad(field, name, why, whysz, "no Arabic letter");
    } else {
        if (ti.arabic || ti.amark)
            return bad(field, name, why, whysz, "Arabic letters in a Latin-script name (use %s)",
                       other);
        if (!ti.latin)
            return bad(field, name, why, whysz, "no Latin letter");
    }
    return 0;
}

/* Free text: optional unless `required`; list items hold no ';'. Fills *ti if not NULL. */
static int plain_text(char *s, size_t sz, const char *name, bool required, bool newline_ok,
                      bool list_item, struct text_info *ti, char *field, char *why, size_t whysz)
{
    size_t len;
    struct text_info own;
    if (!ti)
        ti = &own;
    int rc = text_field(s, sz, newline_ok, name, &len, ti, field, why, whysz);
    if (rc)
        return rc;
    if (required && len == 0)
        return bad(field, name, why, whysz, list_item ? "an empty item" : "required");
    if (list_item && ti->semicolon)
        return bad(field, name, why, whysz, "a list item cannot contain ';'");
    return 0;
}

static int list_count(int n, int max, const char *name, char *field, char *why, size_t whysz)
{
    if (n < 0 || n > max)
        return bad(field, name, why, whysz, "%d items, at most %d", n, max);
    return 0;
}

/* ------------------------------------------------------------ dates */

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * Parses YYYY, YYYY-MM or YYYY-MM-DD (only the last if !partial) into
 * *y, *m, *d (0 for a part not given). AM_EINVAL with the reason.
 */
static int date_parse(const char *s, size_t len, bool partial, int *y, int *m, int *d,
                      const char **reason)
{
    *y = *m = *d = 0;
    if (!(len == 10 || (partial && (len == 4 || len == 7)))) {
        *reason = partial ? "a date is YYYY-MM-DD, YYYY-MM or YYYY" : "a date is YYYY-MM-DD";
        return AM_EINVAL;
    }
    *y = num(s, 4);
    if (len >= 7) {
        *m = s[4] == '-' ? num(s + 5, 2) : -1;
        if (len == 10)
            *d = s[7] == '-' ? num(s + 8, 2) : -1;
    }
    if (*y < 0 || *m < 0 || *d < 0) {
        *reason = partial ? "a date is YYYY-MM-DD, YYYY-MM or YYYY" : "a date is YYYY-MM-DD";
        return AM_EINVAL;
    }
    if (*y < 1900) {
        *reason = "a date before 1900";
        return AM_EINVAL;
    }
    if ((len >= 7 && (*m < 1 || *m > 12)) || (len == 10 && (*d < 1 || *d > days_in(*y, *m)))) {
        *reason = "no such date";
        return AM_EINVAL;
    }
    return 0;
}

/*
 * Today's date wherever it is latest (UTC+14), so that no real birth date is
 * "future". By arithmetic (H. Hinnant's civil_from_days), not gmtime_r: that
 * takes libc's time zone lock, once per record of an import.
 */
static void today(int *y, int *m, int *d)
{
    int64_t days = (am_now_us() / 1000000 + 14 * 3600) / 86400 + 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int date_field(char *s, size_t sz, const char *name, bool partial, bool past, char *field,
                      char *why, size_t whysz)
{
    size_t len;
    struct text_info ti;
    int rc = text_field(s, sz, false, name, &len, &ti, field, why, whysz);
    if (rc || len == 0)
        return rc;
    int y, m, d;
    const char *reason;
    if (date_parse(s, len, partial, &y, &m, &d, &reason))
        return bad(field, name, why, whysz, "%s", reason);
    if (!partial && y > 2199)
        return bad(field, name, why, whysz, "a date after 2199");
    if (past) {
        int ty, tm, td;
        today(&ty, &tm, &td);
        if (y > ty || (y == ty && m > tm) || (y == ty && m == tm && d > td))
            return bad(field, name, why, whysz, "a date in the future");
    }
    return 0;
}

/* ------------------------------------------------------------ identifiers */

static int cin_field(char *s, size_t sz, const char *name, char *field, char *why, size_t whysz)
{
    long n = str_len(s, sz);
    if (n < 0)
        return bad(field, name, why, whysz, "longer than %zu bytes", sz - 1);
    if (n == 0)
        return 0;
    char out[REC_CIN_SZ];
    char reason[128];
    if (cin_parse(s, (size_t)n, out, reason, sizeof(reason)))
        return bad(field, name, why, whysz, "%s", reason);
    str_set(s, sz, out, strlen(out));
    return 0;
}

/* A VIN: spaces and '-' dropped, upper-cased, 17 of [A-HJ-NPR-Z0-9]; no check digit required. */
static int vin_field(char *s, size_t sz, const char *name, char *field, char *why, size_t whysz)
{
    long n = str_len(s, sz);
    if (n < 0)
        return bad(field, name, why, whysz, "longer than %zu bytes", sz - 1);
    char v[REC_VIN_SZ + 1];
    size_t k = 0;
    for (long i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '-')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c == 'I' || c == 'O' || c == 'Q')
            return bad(field, name, why, whysz, "'%c' is not used in a VIN (no I, O or Q)", c);
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            char cn[16];
            cp_name((unsigned char)c, cn, sizeof(cn));
            return bad(field, name, why, whysz, "%s cannot be part of a VIN", cn);
        }
        if (k == REC_VIN_SZ - 1)
            return bad(field, name, why, whysz, "a VIN has 17 characters");
        v[k++] = c;
    }
    if (k != 0 && k != REC_VIN_SZ - 1)
        return bad(field, name, why, whysz, "a VIN has 17 characters, not %zu", k);
    str_set(s, sz, v, k);
    return 0;
}

/* Lower-cases s[sz] in place and checks it is one of the comma-separated words of `set`. */
static int word_field(char *s, size_t sz, const char *name, const char *set, bool required,
                      char *field, char *why, size_t whysz)
{
    long n = str_len(s, sz);
    if (n < 0)
        return bad(field, name, why, whysz, "one of %s", set);
    if (n == 0) {
        if (required)
            return bad(field, name, why, whysz, "required: one of %s", set);
        return 0;
    }
    for (long i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + 32);
    for (const char *p = set; *p;) {
        const char *e = strchr(p, ',');
        size_t wl = e ? (size_t)(e - p) : strlen(p);
        if ((size_t)n == wl && memcmp(s, p, wl) == 0)
            return 0;
        if (!e)
            break;
        p = e + 1;
        while (*p == ' ')
            p++;
    }
    bool printable = n < 24;
    for (long i = 0; printable && i < n; i++)
        printable = s[i] > 0x20 && s[i] < 0x7f;
    if (printable)
        return bad(field, name, why, whysz, "'%s' is not one of %s", s, set);
    return bad(field, name, why, whysz, "one of %s", set);
}

/* ------------------------------------------------------------ persons */

static const struct {
    size_t off;
    const char *name, *other;
    enum script script;
} person_names[] = {
    {offsetof(struct records_person, given_ar), "given_ar", "given_lat", SCRIPT_AR},
    {offsetof(struct records_person, family_ar), "family_ar", "family_lat", SCRIPT_AR},
    {offsetof(struct records_person, father_ar), "father_ar", "father_lat", SCRIPT_AR},
    {offsetof(struct records_person, given_lat), "given_lat", "given_ar", SCRIPT_LAT},
    {offsetof(struct records_person, family_lat), "family_lat", "family_ar", SCRIPT_LAT},
    {offsetof(struct records_person, father_lat), "father_lat", "father_ar", SCRIPT_LAT},
};

int records_person_check(struct records_person *p, char *field, char *why, size_t whysz)
{
    int rc = cin_field(p->cin, sizeof(p->cin), "cin", field, why, whysz);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(person_names) / sizeof(person_names[0]); i++) {
        rc = name_field((char *)p + person_names[i].off, REC_NAME_MAX, person_names[i].name,
                        person_names[i].script, person_names[i].other, field, why, whysz);
        if (rc)
            return rc;
    }
    if (!p->given_ar[0] && !p->family_ar[0] && !p->given_lat[0] && !p->family_lat[0])
        return bad(field, "family_lat", why, whysz,
                   "a given or family name is required, in Arabic or Latin script");

    rc = list_count(p->naliases, REC_ALIASES_MAX, "aliases", field, why, whysz);
    if (rc)
        return rc;
    for (int i = 0; i < p->naliases; i++) {
        struct text_info ti;
        rc = plain_text(p->aliases[i], REC_NAME_MAX, "aliases", true, false, true, &ti, field, why,
                        whysz);
        if (rc)
            return rc;
        if (!ti.latin && !ti.arabic)
            return bad(field, "aliases", why, whysz, "alias %d has no letter", i + 1);
    }
    for (int i = p->naliases; i < REC_ALIASES_MAX; i++)
        memset(p->aliases[i], 0, REC_NAME_MAX);

    rc = date_field(p->birth_date, sizeof(p->birth_date), "birth_date", true, true, field, why,
                    whysz);
    if (rc)
        return rc;
    rc = plain_text(p->birth_place, sizeof(p->birth_place), "birth_place", false, false, false,
                    NULL, field, why, whysz);
    if (rc)
        return rc;

    long n = str_len(p->nationality, sizeof(p->nationality));
    if (n != 0) {
        char nat[4];
        bool ok = n == 3;
        for (long i = 0; ok && i < 3; i++) {
            char c = p->nationality[i];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            ok = c >= 'A' && c <= 'Z';
            nat[i] = c;
        }
        if (!ok)
            return bad(field, "nationality", why, whysz,
                       "an ISO 3166-1 alpha-3 code of three letters (MAR, FRA)");
        str_set(p->nationality, sizeof(p->nationality), nat, 3);
    }

    n = str_len(p->sex, sizeof(p->sex));
    if (n < 0 ||
        (n == 1 && p->sex[0] != 'M' && p->sex[0] != 'F' && p->sex[0] != 'm' && p->sex[0] != 'f'))
        return bad(field, "sex", why, whysz, "M, F or empty");
    if (n == 1 && p->sex[0] >= 'a')
        p->sex[0] = (char)(p->sex[0] - 32);

    rc = list_count(p->naddresses, REC_ADDR_MAX, "addresses", field, why, whysz);
    if (rc)
        return rc;
    for (int i = 0; i < p->naddresses; i++) {
        rc = plain_text(p->addresses[i], REC_TEXT_MAX, "addresses", true, false, true, NULL, field,
                        why, whysz);
        if (rc)
            return rc;
    }
    for (int i = p->naddresses; i < REC_ADDR_MAX; i++)
        memset(p->addresses[i], 0, REC_TEXT_MAX);

    rc = list_count(p->nphones, REC_PHONES_MAX, "phones", field, why, whysz);
    if (rc)
        return rc;
    for (int i = 0; i < p->nphones; i++) {
        n = str_len(p->phones[i], REC_PHONE_SZ);
        if (n < 0)
            return bad(field, "phones", why, whysz, "phone %d is too long", i + 1);
        if (n == 0)
            return bad(field, "phones", why, whysz, "an empty item");
        char e164[REC_PHONE_SZ], reason[128];
        if (records_phone_parse(p->phones[i], (size_t)n, e164, reason, sizeof(reason)))
            return bad(field, "phones", why, whysz, "phone %d: %s", i + 1, reason);
        memcpy(p->phones[i], e164, REC_PHONE_SZ);
    }
    for (int i = p->nphones; i < REC_PHONES_MAX; i++)
        memset(p->phones[i], 0, REC_PHONE_SZ);
    return 0;
}

/* ------------------------------------------------------------ vehicles */

/* Parses the plate s[sz] (country cc, "" for Morocco) into key and kind. */
static int plate_field(char *s, size_t sz, const char *cc, bool required, char *key, int *kind,
                       char *country, char *field, char *why, size_t whysz)
{
    size_t len;
    struct text_info ti;
    int rc = text_field(s, sz, false, "plate", &len, &ti, field, why, whysz);
    if (rc)
        return rc;
    memset(key, 0, REC_PLATE_KEY_SZ);
    if (len == 0)
        return required ? bad(field, "plate", why, whysz, "required") : 0;
    struct plate pl;
    char reason[128];
    rc = plate_parse(s, len, cc, &pl, reason, sizeof(reason));
    if (rc)
        return bad(field, "plate", why, whysz, "%s", reason);
    memcpy(key, pl.key, strlen(pl.key));
    if (kind)
        *kind = (int)pl.kind;
    if (country)
        str_set(country, 3, pl.country, 2);
    return 0;
}

int records_vehicle_check(struct records_vehicle *v, char *field, char *why, size_t whysz)
{
    long n = str_len(v->country, sizeof(v->country));
    if (n != 0 && n != 2)
        return bad(field, "country", why, whysz, "an ISO 3166-1 alpha-2 code (FR, ES), or empty");
    for (long i = 0; i < n; i++) {
        char c = v->country[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return bad(field, "country", why, whysz,
                       "an ISO 3166-1 alpha-2 code (FR, ES), or empty");
    }
    int kind = 0;
    int rc = plate_field(v->plate, sizeof(v->plate), v->country, true, v->plate_key, &kind,
                         v->country, field, why, whysz);
    if (rc)
        return rc;
    v->plate_kind = (enum records_plate_kind)kind;
    rc = vin_field(v->vin, sizeof(v->vin), "vin", field, why, whysz);
    if (rc)
        return rc;
    rc = plain_text(v->make, sizeof(v->make), "make", false, false, false, NULL, field, why, whysz);
    if (!rc)
        rc = plain_text(v->model, sizeof(v->model), "model", false, false, false, NULL, field, why,
                        whysz);
    if (!rc)
        rc = plain_text(v->colour, sizeof(v->colour), "colour", false, false, false, NULL, field,
                        why, whysz);
    if (rc)
        return rc;
    int ty, tm, td;
    today(&ty, &tm, &td);
    if (v->year != 0 && (v->year < 1900 || v->year > ty + 1))
        return bad(field, "year", why, whysz, "a year from 1900 to %d, or 0 if unknown", ty + 1);
    return cin_field(v->owner_cin, sizeof(v->owner_cin), "owner_cin", field, why, whysz);
}

/* ------------------------------------------------------------ hotlist */

int records_hotlist_check(struct records_hotlist *h, char *field, char *why, size_t whysz)
{
    int rc =
        word_field(h->kind, sizeof(h->kind), "kind", REC_HOTLIST_KINDS, true, field, why, whysz);
    if (rc)
        return rc;
    bool stolen = strcmp(h->kind, "stolen") == 0;
    rc = cin_field(h->cin, sizeof(h->cin), "cin", field, why, whysz);
    if (rc)
        return rc;
    if (h->person_id < 0)
        return bad(field, "person_id", why, whysz, "a record id is positive");
    rc = plate_field(h->plate, sizeof(h->plate), NULL, false, h->plate_key, NULL, NULL, field, why,
                     whysz);
    if (rc)
        return rc;
    rc = vin_field(h->vin, sizeof(h->vin), "vin", field, why, whysz);
    if (rc)
        return rc;
    if (stolen) {
        if (!h->plate_key[0] && !h->vin[0])
            return bad(field, "plate", why, whysz, "a stolen vehicle needs a plate or a VIN");
        if (h->cin[0] || h->person_id)
            return bad(field, h->cin[0] ? "cin" : "person_id", why, whysz,
                       "a stolen-vehicle entry names a plate or VIN, not a person");
    } else {
        if (!h->cin[0] && !h->person_id)
            return bad(field, "cin", why, whysz, "a %s person needs a CIN or a person_id", h->kind);
        if (h->plate_key[0] || h->vin[0])
            return bad(field, h->plate_key[0] ? "plate" : "vin", why, whysz,
                       "a %s-person entry names a person, not a vehicle", h->kind);
    }
    rc = plain_text(h->reason, sizeof(h->reason), "reason", true, false, false, NULL, field, why,
                    whysz);
    if (rc)
        return rc;
    rc = plain_text(h->service, sizeof(h->service), "service", true, false, false, NULL, field, why,
                    whysz);
    if (rc)
        return rc;
    rc = date_field(h->valid_from, sizeof(h->valid_from), "valid_from", false, false, field, why,
                    whysz);
    if (rc)
        return rc;
    rc = date_field(h->valid_until, sizeof(h->valid_until), "valid_until", false, false, field, why,
                    whysz);
    if (rc)
        return rc;
    if (h->valid_from[0] && h->valid_until[0] && strcmp(h->valid_until, h->valid_from) < 0)
        return bad(field, "valid_until", why, whysz, "before valid_from");
    rc = word_field(h->action, sizeof(h->action), "action", REC_HOTLIST_ACTIONS, true, field, why,
                    whysz);
    if (rc)
        return rc;
    return plain_text(h->instructions, sizeof(h->instructions), "instructions", false, true, false,
                      NULL, field, why, whysz);
}
