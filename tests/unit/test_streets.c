/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_streets.c - unit tests of the street index of src/geo (streets.c):
 * the normalised form in French and Arabic (accents, case, doubled letters,
 * kinds of street and articles, harakat, tatweel, letter variants, digits,
 * invalid bytes, a form cut short), grouping and ranking on a small OSM file
 * written here (one street of two ways, two streets of one name far apart,
 * alt_name lists, old names, exact before prefix before substring, shorter
 * first), and the shipped Casablanca extract: its named streets counted by
 * a simple reading of the .osm file done here, each found by its own name,
 * the same street by its French and Arabic names, the time of a search, and
 * the graph file (round trip, damaged street index, format 1 without one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"

#ifndef AMANE_DATA_DIR
#error "AMANE_DATA_DIR must name the data/ folder of the source tree"
#endif

#define CASABLANCA AMANE_DATA_DIR "/roads/casablanca_center.osm"

/* ------------------------------------------------------------- helpers */

static void expect_norm(const char *in, bool core, const char *want)
{
    char out[512];
    size_t n = geo_streets_normalize(in, strlen(in), core, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fail_msg("normalize('%s', core=%d) = '%s', want '%s'", in, core, out, want);
    assert_int_equal(n, strlen(want));
}

static char tmpdir[64];

static char *tmp_path(const char *name)
{
    static char path[160];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int tmp_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/amane-test-streets-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- normalising */

static void test_normalize_latin(void **state)
{
    (void)state;
    expect_norm("Boulevard Mohammed V", true, "mohamed v");
    expect_norm("Mohamed V", true, "mohamed v");
    expect_norm("BD. MOHAMMED-V", true, "mohamed v");
    expect_norm("bd mohammed v", false, "bd mohamed v");
    expect_norm("Av. Hassan II", true, "hasan ii");
    /* Roman numerals keep their doubled letters: Hassan II is not Hassan I. */
    expect_norm("Hassan III Xx Illi", false, "hasan iii xx ili");
    expect_norm("Avenue Hassan II", false, "avenue hasan ii");
    expect_norm("Rue d'Ifni", true, "ifni");
    expect_norm("Rue d\u2019Ifni", false, "rue d ifni");
    expect_norm("Place de l'Europe", true, "europe");
    expect_norm("Boulevard de la Résistance", true, "resistance");
    expect_norm("Maâti Bouabid", false, "mati bouabid");
    expect_norm("Œuvre Çà Straße Ñandú", false, "oeuvre ca strase nandu");
    expect_norm("ÉCOLE ÀÉÎÕÜ ÿ", false, "ecole aeiou y");
    expect_norm("Zenqa 4", true, "4");
    expect_norm("Derb Sultan", true, "sultan");
    expect_norm("Rue El Fida", true, "fida");
    expect_norm("Trémie de Dakar", true, "dakar");
    /* Combining accents (decomposed text) vanish too. */
    expect_norm("Re\xcc\x81sistance", false, "resistance");
    /* Only noise: kept, so that "rue" still finds something. */
    expect_norm("Rue", true, "rue");
    expect_norm("Boulevard de la", true, "boulevard de la");
    /* Digits and letters; punctuation separates; nothing left is "". */
    expect_norm("Avenue du 10 Mars 1982", true, "10 mars 1982");
    expect_norm("  ,;!! ", true, "");
    expect_norm("", false, "");
}

static void test_normalize_arabic(void **state)
{
    (void)state;
    expect_norm("شارع محمد الخامس", true, "محمد الخامس");
    expect_norm("شارع محمد الخامس", false, "شارع محمد الخامس");
    /* Harakat and tatweel. */
    expect_norm("شَارِعُ مُحَمَّدٍ الخَامِسِ", true, "محمد الخامس");
    expect_norm("شـــارع", false, "شارع");
    /* Letter variants. */
    expect_norm("أإآٱ", false, "اااا");
    expect_norm("مصطفى", false, "مصطفي");
    expect_norm("مدرسة", false, "مدرسه");
    expect_norm("مؤسسة", false, "موسسه");
    expect_norm("شاطئ", false, "شاطي");
    expect_norm("ساحة لوميݣر", true, "لوميكر");
    expect_norm("زنقة ١٢", true, "12");
    expect_norm("درب ۳", true, "3");
    /* Arabic punctuation separates; invisible joiners and direction marks vanish. */
    expect_norm("الفداء، درب السلطان", true, "الفداء السلطان");
    expect_norm("مح\u200cمد\u200f", false, "محمد");
    /* Both scripts in one name, and Tifinagh kept as it is. */
    expect_norm("Boulevard Anoual شارع أنوال", true, "anoual انوال");
    expect_norm("ⵜⴰⵎⴰⵣⵉⵖⵜ", false, "ⵜⴰⵎⴰⵣⵉⵖⵜ");
}

static void test_normalize_bounds(void **state)
{
    (void)state;
    char out[64];
    /* Invalid bytes separate words and never reach the output. */
    expect_norm("a\xff"
                "b",
                false, "a b");
    expect_norm("ab\xc3", false, "ab");
    expect_norm("\xed\xa0\x80x", false, "x"); /* an encoded surrogate */
    expect_norm("\xc0\xafz", false, "z");     /* an overlong '/' */
    /* A form that does not fit ends at a whole word. */
    assert_int_equal(geo_streets_normalize("ab cd ef", 8, false, out, 6), 5);
    assert_string_equal(out, "ab cd");
    assert_int_equal(geo_streets_normalize("boulevard", 9, false, out, 5), 0);
    assert_string_equal(out, "");
    assert_int_equal(geo_streets_normalize("abc", 3, false, out, 0), 0);
    assert_int_equal(geo_streets_normalize(NULL, 5, false, out, sizeof(out)), 0);
    /* The length given is the length read: no NUL needed. */
    assert_int_equal(geo_streets_normalize("rue atlas", 3, false, out, sizeof(out)), 3);
    assert_string_equal(out, "rue");
    /* The output never grows past the input (outsz >= len + 1 suffices). */
    const char *s = "ßßßßæææœœœ ١٢٣ Ĳ";
    assert_true(geo_streets_normalize(s, strlen(s), false, out, strlen(s) + 1) <= strlen(s));
}

/* ------------------------------------------------------------- a small city */

/* Nodes 1..20: a grid around (33.58, -7.60), 0.001 degree (about 100 m) apart. */
static const char small_osm[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
    "<node id='1' lat='33.580' lon='-7.600'/><node id='2' lat='33.580' lon='-7.599'/>\n"
    "<node id='3' lat='33.580' lon='-7.598'/><node id='4' lat='33.581' lon='-7.598'/>\n"
    "<node id='5' lat='33.581' lon='-7.600'/><node id='6' lat='33.590' lon='-7.580'/>\n"
    "<node id='7' lat='33.590' lon='-7.579'/><node id='8' lat='33.582' lon='-7.600'/>\n"
    "<node id='9' lat='33.582' lon='-7.598'/>\n"
    "<way id='101'><nd ref='1'/><nd ref='2'/>"
    "<tag k='highway' v='primary'/><tag k='name' v='Rue Atlas'/></way>\n"
    "<way id='102'><nd ref='2'/><nd ref='3'/>"
    "<tag k='highway' v='primary'/><tag k='name' v='Rue Atlas'/></way>\n"
    "<way id='103'><nd ref='6'/><nd ref='7'/>"
    "<tag k='highway' v='primary'/><tag k='name' v='Rue Atlas'/></way>\n"
    "<way id='104'><nd ref='3'/><nd ref='4'/>"
    "<tag k='highway' v='secondary'/><tag k='name' v='Boulevard Grand Atlas'/></way>\n"
    "<way id='105'><nd ref='4'/><nd ref='5'/>"
    "<tag k='highway' v='secondary'/><tag k='name' v='Rue Atlasien'/></way>\n"
    "<way id='106'><nd ref='5'/><nd ref='1'/>"
    "<tag k='highway' v='tertiary'/><tag k='name' v='Rue Latlas'/></way>\n"
    "<way id='107'><nd ref='5'/><nd ref='8'/><nd ref='9'/><nd ref='4'/>"
    "<tag k='highway' v='primary'/>"
    "<tag k='name' v='Avenue Hassan II شارع الحسن الثاني'/>"
    "<tag k='name:fr' v='Avenue Hassan II'/><tag k='name:ar' v='شارع الحسن الثاني'/>"
    "<tag k='alt_name' v='Bd Hassan 2;Avenue Royale'/>"
    "<tag k='old_name' v='Route de Rabat'/></way>\n"
    "<way id='108'><nd ref='8'/><nd ref='1'/>"
    "<tag k='highway' v='footway'/><tag k='name' v='Passage Pieton'/></way>\n"
    "<way id='109'><nd ref='9'/><nd ref='3'/><tag k='highway' v='residential'/></way>\n"
    "<way id='110'><nd ref='8'/><nd ref='9'/><tag k='highway' v='residential'/>"
    "<tag k='name' v='Rue&#9;Tab'/><tag k='name:fr' v='Rue Tabulation'/></way>\n"
    "</osm>\n";

static struct geo_roads *import(const char *path, bool in_process)
{
    struct geo_roads *g = NULL;
    char why[256] = "";
    struct geo_roads_import_opts o = {.in_process = in_process};
    int rc = geo_roads_import(path, &o, &g, why, sizeof(why));
    if (rc)
        fail_msg("import '%s': %s", path, why);
    return g;
}

/* Searches and returns the number of hits; names[i] gets each hit's name_fr or name. */
static int search(const struct geo_streets *s, const char *q, size_t max, struct geo_street *out)
{
    int n = geo_streets_search(s, q, max, out);
    assert_true(n >= 0);
    assert_true((size_t)n <= max);
    for (int i = 1; i < n; i++)
        assert_true(out[i - 1].match <= out[i].match);
    return n;
}

static void test_small_city(void **state)
{
    (void)state;
    char *path = tmp_path("small.osm");
    write_file(path, small_osm);
    for (int child = 0; child < 2; child++) {
        /* In this process, and through the child process and its graph file. */
        struct geo_roads *g = import(path, child == 0);
        const struct geo_streets *s = geo_roads_streets(g);
        assert_non_null(s);
        /* Rue Atlas twice (the two ways near each other are one street, the far one another),
         * Grand Atlas, Atlasien, Latlas, Hassan II, Tabulation (its name has a tab: its
         * French name stands in); not the footway, not the nameless way. */
        assert_int_equal(geo_streets_count(s), 7);
        struct geo_street hit[10];
        int n = search(s, "atlas", 10, hit);
        assert_int_equal(n, 5);
        assert_string_equal(hit[0].name, "Rue Atlas");
        assert_string_equal(hit[1].name, "Rue Atlas");
        assert_int_equal(hit[0].match, GEO_MATCH_EXACT);
        assert_int_equal(hit[1].match, GEO_MATCH_EXACT);
        /* The merged street spans both its ways; the far one is elsewhere. */
        const struct geo_street *near = hit[0].west < -7.59 ? &hit[0] : &hit[1];
        const struct geo_street *far = near == &hit[0] ? &hit[1] : &hit[0];
        assert_true(near->west <= -7.5999 && near->east >= -7.5981);
        assert_true(far->west >= -7.5801 && far->east <= -7.5789);
        assert_true(near->lat >= near->south - 1e-6 && near->lat <= near->north + 1e-6);
        assert_true(near->lon >= near->west - 1e-6 && near->lon <= near->east + 1e-6);
        /* Then word prefixes, shorter first; then inside a word. */
        assert_string_equal(hit[2].name, "Rue Atlasien");
        assert_int_equal(hit[2].match, GEO_MATCH_PREFIX);
        assert_string_equal(hit[3].name, "Boulevard Grand Atlas");
        assert_int_equal(hit[3].match, GEO_MATCH_PREFIX);
        assert_string_equal(hit[4].name, "Rue Latlas");
        assert_int_equal(hit[4].match, GEO_MATCH_SUBSTRING);
        /* Words in any order; the kind of street does not matter. */
        assert_int_equal(search(s, "atlas grand", 10, hit), 1);
        assert_string_equal(hit[0].name, "Boulevard Grand Atlas");
        assert_int_equal(hit[0].match, GEO_MATCH_PREFIX);
        assert_int_equal(search(s, "avenue grand atlas", 10, hit), 1);
        assert_int_equal(hit[0].match, GEO_MATCH_EXACT);
        /* One street by all its names: French, Arabic, alt_name list, old_name. */
        const char *hassan[] = {"Avenue Hassan II", "hassan ii",   "شارع الحسن الثاني",
                                "الحسن الثاني",     "Bd Hassan 2", "avenue royale",
                                "Route de Rabat"};
        uint32_t id = UINT32_MAX;
        for (size_t i = 0; i < sizeof(hassan) / sizeof(hassan[0]); i++) {
            assert_int_equal(search(s, hassan[i], 10, hit), 1);
            assert_int_equal(hit[0].match, GEO_MATCH_EXACT);
            if (id == UINT32_MAX)
                id = hit[0].id;
            assert_int_equal(hit[0].id, id);
        }
        assert_string_equal(hit[0].name_fr, "Avenue Hassan II");
        assert_string_equal(hit[0].name_ar, "شارع الحسن الثاني");
        assert_string_equal(hit[0].name, "Avenue Hassan II شارع الحسن الثاني");
        assert_int_equal(search(s, "حسن", 10, hit), 1);
        assert_int_equal(hit[0].match, GEO_MATCH_SUBSTRING);
        /* Streets without an Arabic name have "". */
        assert_int_equal(search(s, "latlas", 10, hit), 1);
        assert_string_equal(hit[0].name_ar, "");
        assert_string_equal(hit[0].name_fr, "Rue Latlas");
        /* Nothing, limits, bad arguments. */
        assert_int_equal(search(s, "pieton", 10, hit), 0);
        assert_int_equal(search(s, "casablanca", 10, hit), 0);
        assert_int_equal(search(s, "!!", 10, hit), 0);
        assert_int_equal(search(s, "atlas", 1, hit), 1);
        assert_string_equal(hit[0].name, "Rue Atlas");
        assert_int_equal(geo_streets_search(s, "atlas", 0, NULL), 0);
        assert_int_equal(geo_streets_search(s, NULL, 10, hit), AM_EINVAL);
        assert_int_equal(geo_streets_search(NULL, "atlas", 10, hit), AM_EINVAL);
        assert_int_equal(geo_streets_search(s, "atlas", 10, NULL), AM_EINVAL);
        char big[GEO_STREETS_QUERY_MAX + 2];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(geo_streets_search(s, big, 10, hit), AM_EINVAL);
        big[GEO_STREETS_QUERY_MAX] = '\0';
        assert_true(geo_streets_search(s, big, 10, hit) >= 0);
        assert_false(geo_streets_get(s, 7, hit));
        assert_true(geo_streets_get(s, 6, hit));
        assert_int_equal(search(s, "tabulation", 10, hit), 1);
        assert_string_equal(hit[0].name, "Rue Tabulation");
        geo_roads_free(g);
    }
}

static void test_graph_without_names(void **state)
{
    (void)state;
    double lat[2] = {33.5, 33.6}, lon[2] = {-7.6, -7.6};
    uint32_t tail[2] = {0, 1}, head[2] = {1, 0}, t[2] = {1000, 1000};
    float len[2] = {100, 100};
    struct geo_roads *g = NULL;
    assert_int_equal(geo_roads_from_edges(2, lat, lon, 2, tail, head, t, len, NULL, &g, NULL, 0),
                     0);
    assert_null(geo_roads_streets(g));
    assert_int_equal(geo_streets_count(NULL), 0);
    /* Saved and read back: still none. */
    char *path = tmp_path("plain.graph");
    assert_int_equal(geo_roads_save(g, path, NULL, 0), 0);
    struct geo_roads *g2 = NULL;
    char why[256];
    assert_int_equal(geo_roads_load(path, &g2, why, sizeof(why)), 0);
    assert_null(geo_roads_streets(g2));
    geo_roads_free(g);
    geo_roads_free(g2);
}

/* ------------------------------------------------------------- Casablanca */

static const char *const kept_highways[] = {
    "motorway",     "motorway_link", "trunk",          "trunk_link",    "primary",
    "primary_link", "secondary",     "secondary_link", "tertiary",      "tertiary_link",
    "unclassified", "road",          "residential",    "living_street", "service",
};

/* The value of attribute `attr` in the tag line `line` into out; false if absent. */
static bool attr_value(const char *line, const char *attr, char *out, size_t outsz)
{
    char pat[16];
    snprintf(pat, sizeof(pat), "%s=\"", attr);
    const char *p = strstr(line, pat);
    if (!p)
        return false;
    p += strlen(pat);
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= outsz)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

/*
 * An independent count from the .osm file, read line by line: the named
 * drivable ways and their distinct names (the file has no access or area
 * tags on its roads, and its entities are plain UTF-8 except &apos; and
 * &quot;, replaced here).
 */
struct osm_count {
    size_t named_ways;
    size_t ndistinct;
    char names[200][160];
};

static void unescape(char *s)
{
    const struct {
        const char *ent, *ch;
    } ents[] = {{"&apos;", "'"}, {"&quot;", "\""}, {"&amp;", "&"}, {"&#39;", "'"}};
    for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
        for (char *p; (p = strstr(s, ents[k].ent));)
            memmove(p + 1, p + strlen(ents[k].ent), strlen(p + strlen(ents[k].ent)) + 1),
                *p = ents[k].ch[0];
}

static void count_osm(const char *path, struct osm_count *c)
{
    memset(c, 0, sizeof(*c));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096], highway[64] = "", name[160] = "", v[160];
    bool in_way = false;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "<way ")) {
            in_way = true;
            highway[0] = name[0] = '\0';
        } else if (in_way && strstr(line, "<tag ")) {
            char k[64];
            if (attr_value(line, "k", k, sizeof(k)) && attr_value(line, "v", v, sizeof(v))) {
                if (strcmp(k, "highway") == 0)
                    snprintf(highway, sizeof(highway), "%.63s", v);
                else if (strcmp(k, "name") == 0)
                    snprintf(name, sizeof(name), "%s", v);
            }
        } else if (in_way && strstr(line, "</way>")) {
            in_way = false;
            bool kept = false;
            for (size_t i = 0; i < sizeof(kept_highways) / sizeof(kept_highways[0]); i++)
                kept |= strcmp(highway, kept_highways[i]) == 0;
            if (!kept || !name[0])
                continue;
            unescape(name);
            c->named_ways++;
            bool seen = false;
            for (size_t i = 0; i < c->ndistinct && !seen; i++)
                seen = strcmp(c->names[i], name) == 0;
            if (!seen && c->ndistinct < 200)
                snprintf(c->names[c->ndistinct++], sizeof(c->names[0]), "%s", name);
        }
    }
    fclose(f);
}

static void test_casablanca(void **state)
{
    (void)state;
    struct osm_count *c = malloc(sizeof(*c));
    assert_non_null(c);
    count_osm(CASABLANCA, c);
    /* As Python's ElementTree counts them: 597 named drivable ways, 80 distinct names. */
    assert_int_equal(c->named_ways, 597);
    assert_int_equal(c->ndistinct, 80);

    struct geo_roads *g = import(CASABLANCA, false);
    const struct geo_streets *s = geo_roads_streets(g);
    assert_non_null(s);
    /*
     * 80 names make 79 streets: "Avenue 2 Mars" and "Boulevard de la Grande Ceinture" each
     * have ways with and without their Arabic name (one street each), and the ways of
     * "Avenue Ouled Ziane" lie in two places 1.6 km apart (two streets).
     */
    assert_int_equal(geo_streets_count(s), 79);
    struct geo_info_box {
        double s, w, n, e;
    } box = {33.553, -7.626, 33.594, -7.555};
    for (size_t i = 0; i < geo_streets_count(s); i++) {
        struct geo_street st;
        assert_true(geo_streets_get(s, i, &st));
        assert_true(st.name[0]);
        assert_true(st.south >= box.s && st.north <= box.n && st.west >= box.w && st.east <= box.e);
        assert_true(st.lat >= box.s && st.lat <= box.n && st.lon >= box.w && st.lon <= box.e);
        /* The point is on the road graph (snapped). */
        struct geo_snap sn;
        assert_int_equal(geo_roads_snap(g, st.lat, st.lon, 1000, &sn), 0);
        assert_true(sn.dist_m < 0.5);
    }
    /* Every name of the file finds its street, exactly. */
    struct geo_street hit[50];
    for (size_t i = 0; i < c->ndistinct; i++) {
        int n = search(s, c->names[i], 50, hit);
        bool found = false;
        for (int k = 0; k < n && hit[k].match == GEO_MATCH_EXACT; k++)
            /* The name shown may be another way's: "fr" where this one is "fr ar". */
            found |= strcmp(hit[k].name, c->names[i]) == 0 ||
                     strcmp(hit[k].name_fr, c->names[i]) == 0 ||
                     (hit[k].name_ar[0] && strstr(c->names[i], hit[k].name_fr) == c->names[i] &&
                      strstr(c->names[i], hit[k].name_ar));
        if (!found)
            fail_msg("'%s' not found exactly (%d hits)", c->names[i], n);
    }
    /* The same street in French and in Arabic, with and without its kind. */
    const char *m6[] = {"mohammed vi",           "Mohamed VI",  "BD MOHAMMED VI",
                        "Boulevard Mohammed VI", "محمد السادس", "شارع محمد السادس",
                        "شارع مُحَمَّد السـادس"};
    uint32_t id = UINT32_MAX;
    for (size_t i = 0; i < sizeof(m6) / sizeof(m6[0]); i++) {
        assert_true(search(s, m6[i], 5, hit) >= 1);
        assert_int_equal(hit[0].match, GEO_MATCH_EXACT);
        if (id == UINT32_MAX)
            id = hit[0].id;
        assert_int_equal(hit[0].id, id);
    }
    assert_string_equal(hit[0].name_fr, "Boulevard Mohammed VI");
    assert_string_equal(hit[0].name_ar, "شارع محمد السادس");
    /* Its old name (old_name:fr), and Zerktouni by a fragment. */
    assert_true(search(s, "Route Mediouna", 5, hit) >= 1);
    assert_int_equal(hit[0].id, id);
    assert_true(search(s, "zerkt", 5, hit) >= 1);
    assert_string_equal(hit[0].name_fr, "Boulevard Mohamed Zerktouni");
    assert_int_equal(hit[0].match, GEO_MATCH_PREFIX);
    /* An Arabic name split out of a bilingual name:ar tag. */
    assert_true(search(s, "زنقة الأمير عبد القادر", 5, hit) >= 1);
    assert_string_equal(hit[0].name_ar, "زنقة الأمير عبد القادر");
    assert_string_equal(hit[0].name_fr, "Rue Al Amir Abdelkader");

    /*
     * The time of a search: every name, its first three bytes (many prefix matches), a
     * fragment from its middle (substring scans), and a miss, 20 rounds.
     */
    char frag[64];
    size_t queries = 0;
    double worst = 0, t0 = now_s();
    double *times = malloc(20 * 4 * c->ndistinct * sizeof(double));
    assert_non_null(times);
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < c->ndistinct; i++) {
            const char *name = c->names[i];
            size_t len = strlen(name);
            for (int kind = 0; kind < 4; kind++) {
                const char *q = name;
                if (kind == 1 || kind == 2) {
                    size_t from = kind == 1 ? 0 : len / 2, n = 3;
                    while (from > 0 && ((unsigned char)name[from] & 0xc0) == 0x80)
                        from--;
                    while (from + n < len && ((unsigned char)name[from + n] & 0xc0) == 0x80)
                        n++;
                    snprintf(frag, sizeof(frag), "%.*s", (int)n, name + from);
                    q = frag;
                } else if (kind == 3) {
                    q = "qqqzzz";
                }
                double a = now_s();
                int n = geo_streets_search(s, q, 10, hit);
                double d = now_s() - a;
                assert_true(n >= 0);
                worst = d > worst ? d : worst;
                times[queries++] = d;
            }
        }
    double mean_us = (now_s() - t0) / (double)queries * 1e6;
    qsort(times, queries, sizeof(double), cmp_double);
    double p50 = times[queries / 2] * 1e6, p99 = times[queries * 99 / 100] * 1e6;
    print_message("streets: %zu streets, %zu queries: mean %.2f us, p50 %.2f us, p99 %.2f us, "
                  "worst %.1f us\n",
                  geo_streets_count(s), queries, mean_us, p50, p99, worst * 1e6);
    free(times);
    /* Under a millisecond; the p99 leaves room for a loaded machine's preemptions. */
    assert_true(mean_us < 1000);
    assert_true(p99 < 1000);

    /* The graph file keeps the index; damage to it is refused. */
    char *path = tmp_path("casa.graph");
    char why[512];
    assert_int_equal(geo_roads_save(g, path, why, sizeof(why)), 0);
    struct geo_roads *g2 = NULL;
    assert_int_equal(geo_roads_load(path, &g2, why, sizeof(why)), 0);
    const struct geo_streets *s2 = geo_roads_streets(g2);
    assert_int_equal(geo_streets_count(s2), geo_streets_count(s));
    struct geo_street a[10], b[10];
    int na = search(s, "boulevard", 10, a), nb = search(s2, "boulevard", 10, b);
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++) {
        assert_int_equal(a[i].id, b[i].id);
        assert_string_equal(a[i].name, b[i].name);
        assert_true(a[i].lat == b[i].lat && a[i].east == b[i].east);
    }
    geo_roads_free(g2);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *file = malloc((size_t)size);
    assert_non_null(file);
    assert_int_equal(fread(file, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    /* Header: magic 8, version, endian, n, m, dropped, streets_len (4 each), SHA-256 32. */
    uint32_t streets_len;
    memcpy(&streets_len, file + 28, 4);
    assert_true(streets_len > 1000 && streets_len < (uint32_t)size);
    char *bad = tmp_path("bad.graph");
    /* A flipped byte in the street names: the checksum says so. */
    file[size - 10] ^= 0x20;
    f = fopen(bad, "wb");
    fwrite(file, 1, (size_t)size, f);
    fclose(f);
    assert_int_equal(geo_roads_load(bad, &g2, why, sizeof(why)), AM_ECORRUPT);
    assert_non_null(strstr(why, "checksum"));
    assert_null(g2);
    /* The same with the checksum made right: the index's own checks refuse it. */
    unsigned char *sumbuf = malloc((size_t)size);
    assert_non_null(sumbuf);
    file[size - 1] = 'x'; /* the last name loses its NUL */
    memcpy(sumbuf, file, (size_t)size);
    memset(sumbuf + 32, 0, 32);
    am_sha256(sumbuf, (size_t)size, file + 32);
    f = fopen(bad, "wb");
    fwrite(file, 1, (size_t)size, f);
    fclose(f);
    assert_int_equal(geo_roads_load(bad, &g2, why, sizeof(why)), AM_ECORRUPT);
    assert_non_null(strstr(why, "street"));
    assert_null(g2);
    /* Format 1 (before street names were kept) is read as a graph without index. */
    size_t size1 = (size_t)size - streets_len;
    uint32_t one = 1, zero = 0;
    memcpy(file + 8, &one, 4);
    memcpy(file + 28, &zero, 4);
    memcpy(sumbuf, file, size1);
    memset(sumbuf + 32, 0, 32);
    am_sha256(sumbuf, size1, file + 32);
    f = fopen(bad, "wb");
    fwrite(file, 1, size1, f);
    fclose(f);
    assert_int_equal(geo_roads_load(bad, &g2, why, sizeof(why)), 0);
    assert_null(geo_roads_streets(g2));
    geo_roads_free(g2);
    /* Format 1 claiming a street index: refused. */
    memcpy(file + 28, &streets_len, 4);
    f = fopen(bad, "wb");
    fwrite(file, 1, size1, f);
    fclose(f);
    assert_int_equal(geo_roads_load(bad, &g2, why, sizeof(why)), AM_ECORRUPT);
    free(sumbuf);
    free(file);
    geo_roads_free(g);
    free(c);
}

/* Random bytes as queries: any answer, never a crash, results in order. */
static void test_random_queries(void **state)
{
    (void)state;
    struct geo_roads *g = import(CASABLANCA, true);
    const struct geo_streets *s = geo_roads_streets(g);
    uint64_t x = 88172645463325252ull;
    static const char *const pieces[] = {"a",  "é",    "ش",    "ـ", "َ",    "'",  " ",
                                         "bd", "\xff", "\xd8", "١", "rue", "ال", "\xe2\x80\x8f",
                                         "z",  "-"};
    char q[GEO_STREETS_QUERY_MAX + 1];
    struct geo_street hit[20];
    for (int i = 0; i < 20000; i++) {
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t parts = x % 12;
        for (size_t k = 0; k < parts; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *p = pieces[x % (sizeof(pieces) / sizeof(pieces[0]))];
            if (len + strlen(p) >= sizeof(q))
                break;
            memcpy(q + len, p, strlen(p));
            len += strlen(p);
        }
        q[len] = '\0';
        search(s, q, 1 + x % 20, hit);
    }
    geo_roads_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_latin),     cmocka_unit_test(test_normalize_arabic),
        cmocka_unit_test(test_normalize_bounds),    cmocka_unit_test(test_small_city),
        cmocka_unit_test(test_graph_without_names), cmocka_unit_test(test_casablanca),
        cmocka_unit_test(test_random_queries),
    };
    return cmocka_run_group_tests(tests, tmp_setup, tmp_teardown);
}
