/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_streets.c - fuzzes the street search of call intake: the query
 * normaliser, geo_streets_normalize(), and geo_streets_search() over a small
 * index of Casablanca-like names in French, Arabic and both, built once with
 * geo_streets_build() (no file, no graph). The input is the query, as any
 * bytes.
 *
 * The normalised form (core and full) must be valid UTF-8 no longer than the
 * input, words separated by one space with none at either end, no ASCII
 * capital or punctuation, and a fixed point: normalising it again gives it
 * back. A form cut short by a small buffer must be a whole-word prefix of the
 * full one. A search must return at most `max` streets (max from the first
 * byte), each a street of the index, each once, ordered by match kind; a
 * query of more than GEO_STREETS_QUERY_MAX bytes must be AM_EINVAL. Any
 * failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "geo/geo.h"
#include "geo/roads_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_streets: %s\n", what);
    abort();
}

static const char *const names[][3] = {
    {"Boulevard Mohammed VI شارع محمد السادس", "شارع محمد السادس", "Boulevard Mohammed VI"},
    {"Boulevard Mohamed Zerktouni", NULL, NULL},
    {"Rue d'Ifni", NULL, NULL},
    {"Rue Ifni زنقة إفني", "Rue Ifni زنقة إفني", "Rue Ifni"},
    {"Avenue Hassan II", "شارع الحسن الثاني", "Avenue Hassan II"},
    {"Place de l'Europe", NULL, NULL},
    {"Rue 10 زنقة", "زنقة 10", "Rue 10"},
    {"Derb Sultan", "درب السلطان", NULL},
    {"ساحة لوميݣر دوبروي", NULL, NULL},
    {"Boulevard de la Résistance", NULL, NULL},
    {"Trémie Hadj Omar Riffi نفق الحاج عمر الريفي", NULL, "Trémie Hadj Omar Riffi"},
    {"ⵜⴰⵎⴰⵣⵉⵖⵜ", NULL, NULL},
    {"Rue", NULL, NULL},
};

static struct geo_streets *index_once(void)
{
    static struct geo_streets *idx;
    if (idx)
        return idx;
    enum { N = sizeof(names) / sizeof(names[0]) };
    static int32_t lat[N][2], lon[N][2];
    struct geo_street_way ways[N];
    memset(ways, 0, sizeof(ways));
    for (int i = 0; i < N; i++) {
        lat[i][0] = 335600000 + i * 10000;
        lat[i][1] = lat[i][0] + 5000;
        lon[i][0] = lon[i][1] = -76000000 + i * 10000;
        ways[i].names[GEO_WN_NAME] = names[i][0];
        ways[i].names[GEO_WN_AR] = names[i][1];
        ways[i].names[GEO_WN_FR] = names[i][2];
        ways[i].names[GEO_WN_ALT] = i == 4 ? "Bd Hassan 2;Avenue Royale" : NULL;
        ways[i].lat_e7 = lat[i];
        ways[i].lon_e7 = lon[i];
        ways[i].npoints = 2;
    }
    if (geo_streets_build(NULL, ways, N, &idx))
        fail("cannot build the index");
    return idx;
}

static void check_form(const char *in, size_t len, bool core)
{
    char *out = malloc(len + 1), *again = malloc(len + 1);
    if (!out || !again)
        fail("out of memory");
    size_t n = geo_streets_normalize(in, len, core, out, len + 1);
    if (n > len || strlen(out) != n)
        fail("normalised form longer than the input, or length wrong");
    if (!am_utf8_valid(out, n))
        fail("normalised form is not UTF-8");
    for (size_t i = 0; i < n; i++) {
        char c = out[i];
        if (c == ' ' && (i == 0 || i + 1 == n || out[i + 1] == ' '))
            fail("spaces out of place");
        if ((c >= 'A' && c <= 'Z') ||
            (c > 0 && c < 0x7f && c != ' ' && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9')))
            fail("capital or punctuation in a normalised form");
    }
    size_t m = geo_streets_normalize(out, n, core, again, n + 1);
    if (m != n || memcmp(out, again, n) != 0)
        fail("normalising twice changes the form");
    /* A small buffer: a whole-word prefix of the full form. */
    if (!core && n > 4) {
        char small[8];
        size_t k = geo_streets_normalize(in, len, false, small, sizeof(small));
        if (k >= sizeof(small) || memcmp(small, out, k) != 0 ||
            (k && out[k] != ' ' && out[k] != '\0'))
            fail("a form cut short is not a whole-word prefix");
    }
    free(out);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct geo_streets *idx = index_once();
    check_form((const char *)data, size, false);
    check_form((const char *)data, size, true);

    size_t max = size ? data[0] % 24 : 5;
    char *q = malloc(size + 1);
    if (!q)
        fail("out of memory");
    memcpy(q, data, size);
    q[size] = '\0';
    struct geo_street hits[24];
    int n = geo_streets_search(idx, q, max, hits);
    size_t qlen = strlen(q);
    if (qlen > GEO_STREETS_QUERY_MAX) {
        if (n != AM_EINVAL)
            fail("a query past the limit was not refused");
    } else {
        if (n < 0 || (size_t)n > max)
            fail("search answered more than max, or failed");
        for (int i = 0; i < n; i++) {
            if (hits[i].id >= geo_streets_count(idx) || hits[i].match < GEO_MATCH_EXACT ||
                hits[i].match > GEO_MATCH_SUBSTRING || !hits[i].name || !hits[i].name[0])
                fail("a hit that is not a street of the index");
            if (i && hits[i - 1].match > hits[i].match)
                fail("hits out of order");
            for (int j = 0; j < i; j++)
                if (hits[j].id == hits[i].id)
                    fail("a street found twice");
        }
    }
    free(q);
    return 0;
}
