/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * streets.c - the street index of a road graph: a caller types part of a
 * street's name, in Arabic or in French, and the dispatcher's console must
 * find the street at once. The importer (osm.c) hands over the names and
 * points of the named drivable ways; they are grouped into streets (one
 * name, ways within STREET_JOIN_M of each other), each with its names, a
 * point on the road and a bounding box. The graph file stores that much
 * (geo_streets_serialize()); the search structures are rebuilt from it on
 * load: every name's normalised form (geo_streets_normalize()) as a key,
 * and the distinct words of the keys, sorted, each with the keys that hold
 * it. A query looks its longest word up by binary search among the words
 * (prefix matches), and scans the words only when those do not fill the
 * answer (substring matches).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "geo/roads_int.h"

/* Ways of one name closer than this are one street; farther apart, two streets of one name. */
#define STREET_JOIN_M 500.0
/* A street's point is snapped onto the graph if a road is this close. */
#define STREET_SNAP_M 1000.0
/* Keys (normalised names) kept per street, after splitting "a;b" values. */
#define STREET_MAX_KEYS 64
/* Words of a query looked at; a query of GEO_STREETS_QUERY_MAX bytes has fewer. */
#define QUERY_MAX_WORDS (GEO_STREETS_QUERY_MAX / 2 + 1)

struct street_key {
    uint32_t street;
    uint32_t core, full; /* offsets into kblob of the two normalised forms */
    uint16_t core_len, full_len;
};

struct street_word {
    uint32_t off; /* into kblob */
    uint32_t len;
    uint32_t first; /* into postings: the keys holding this word, ascending */
};

struct geo_streets {
    uint32_t n;
    int32_t *geo;  /* [6 n]: lat, lon, south, west, north, east, 1e-7 degree */
    uint32_t *off; /* [n + 1] into blob */
    char *blob;    /* per street, NUL-terminated: name, name_ar, name_fr, other names */
    uint32_t blob_len;
    const char **name3; /* [3 n]: name, name_ar, name_fr of each street, into blob */

    struct street_key *keys;
    uint32_t nkeys;
    char *kblob;
    uint32_t kblob_len;
    struct street_word *words; /* sorted by bytes */
    uint32_t nwords;
    uint32_t *postings; /* [npostings], words[i].first .. words[i+1].first - 1 */
    uint32_t npostings;
};

/* ---------------------------------------------------------------- normalising */

/* The next code point of s[*i..len), or UINT32_MAX for an invalid byte (which is skipped). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    uint32_t cp;
    size_t n = am_utf8_decode((const char *)s + *i, len - *i, &cp);
    *i += n ? n : 1;
    return n ? cp : UINT32_MAX;
}

/* Latin letters with diacritics and ligatures, folded to ASCII (NULL: a separator). */
static const struct {
    uint32_t lo, hi;
    const char *to;
} latin_fold[] = {
    {0xc0, 0xc5, "a"},     {0xc6, 0xc6, "ae"},    {0xc7, 0xc7, "c"},     {0xc8, 0xcb, "e"},
    {0xcc, 0xcf, "i"},     {0xd0, 0xd0, "d"},     {0xd1, 0xd1, "n"},     {0xd2, 0xd6, "o"},
    {0xd7, 0xd7, NULL},    {0xd8, 0xd8, "o"},     {0xd9, 0xdc, "u"},     {0xdd, 0xdd, "y"},
    {0xde, 0xde, "th"},    {0xdf, 0xdf, "ss"},    {0xe0, 0xe5, "a"},     {0xe6, 0xe6, "ae"},
    {0xe7, 0xe7, "c"},     {0xe8, 0xeb, "e"},     {0xec, 0xef, "i"},     {0xf0, 0xf0, "d"},
    {0xf1, 0xf1, "n"},     {0xf2, 0xf6, "o"},     {0xf7, 0xf7, NULL},    {0xf8, 0xf8, "o"},
    {0xf9, 0xfc, "u"},     {0xfd, 0xfd, "y"},     {0xfe, 0xfe, "th"},    {0xff, 0xff, "y"},
    {0x100, 0x105, "a"},   {0x106, 0x10d, "c"},   {0x10e, 0x111, "d"},   {0x112, 0x11b, "e"},
    {0x11c, 0x123, "g"},   {0x124, 0x127, "h"},   {0x128, 0x131, "i"},   {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"},   {0x136, 0x138, "k"},   {0x139, 0x142, "l"},   {0x143, 0x14b, "n"},
    {0x14c, 0x151, "o"},   {0x152, 0x153, "oe"},  {0x154, 0x159, "r"},   {0x15a, 0x161, "s"},
    {0x162, 0x167, "t"},   {0x168, 0x173, "u"},   {0x174, 0x175, "w"},   {0x176, 0x178, "y"},
    {0x179, 0x17e, "z"},   {0x17f, 0x17f, "s"},   {0x1e0c, 0x1e0d, "d"}, {0x1e24, 0x1e25, "h"},
    {0x1e62, 0x1e63, "s"}, {0x1e6c, 0x1e6d, "t"}, {0x1e92, 0x1e93, "z"},
};

static bool is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == '`' || cp == 0xb4 || cp == 0x2018 || cp == 0x2019 || cp == 0x2bb ||
           cp == 0x2bc || cp == 0x2be || cp == 0x2bf;
}

enum { FOLD_SEP = -1, FOLD_DROP = 0 };

/*
 * What code point cp becomes in a normalised name: FOLD_SEP (ends a word),
 * FOLD_DROP (nothing), or the number of bytes written to out (at most 4).
 */
static int fold(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            out[0] = (char)cp;
            return 1;
        }
        return FOLD_SEP;
    }
    if (cp == UINT32_MAX || cp < 0xc0)
        return FOLD_SEP; /* invalid bytes, C1 controls, Latin-1 punctuation and spaces */
    if (cp <= 0x17f || (cp >= 0x1e00 && cp <= 0x1eff)) {
        for (size_t i = 0; i < sizeof(latin_fold) / sizeof(latin_fold[0]); i++)
            if (cp >= latin_fold[i].lo && cp <= latin_fold[i].hi) {
                if (!latin_fold[i].to)
                    return FOLD_SEP;
                size_t n = strlen(latin_fold[i].to);
                memcpy(out, latin_fold[i].to, n);
                return (int)n;
            }
        return (int)am_utf8_encode(cp, out);
    }
    if ((cp >= 0x2b0 && cp <= 0x2ff) || (cp >= 0x2000 && cp <= 0x206f) || cp == 0x3000) {
        /* Invisible marks inside words (ZWJ, ZWNJ, direction marks) vanish; the rest separates. */
        if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2060 && cp <= 0x206f))
            return FOLD_DROP;
        return FOLD_SEP;
    }
    if ((cp >= 0x300 && cp <= 0x36f) || cp == 0xfeff)
        return FOLD_DROP; /* combining diacritics, byte order mark */
    if (cp >= 0x600 && cp <= 0x6ff) {
        if ((cp >= 0x610 && cp <= 0x61a) || (cp >= 0x64b && cp <= 0x65f) || cp == 0x670 ||
            cp == 0x640 || (cp >= 0x6d6 && cp <= 0x6ed))
            return FOLD_DROP; /* harakat, Quranic marks, tatweel */
        if (cp >= 0x660 && cp <= 0x669) {
            out[0] = (char)('0' + (cp - 0x660));
            return 1;
        }
        if (cp >= 0x6f0 && cp <= 0x6f9) {
            out[0] = (char)('0' + (cp - 0x6f0));
            return 1;
        }
        switch (cp) {
        case 0x60c: /* comma, semicolon, question mark, percent, separators, full stop */
        case 0x61b:
        case 0x61f:
        case 0x66a:
        case 0x66b:
        case 0x66c:
        case 0x66d:
        case 0x6d4:
            return FOLD_SEP;
        case 0x622: /* آ أ إ ٱ -> ا */
        case 0x623:
        case 0x625:
        case 0x671:
            cp = 0x627;
            break;
        case 0x649: /* ى ئ ی -> ي */
        case 0x626:
        case 0x6cc:
            cp = 0x64a;
            break;
        case 0x629: /* ة -> ه */
            cp = 0x647;
            break;
        case 0x624: /* ؤ -> و */
            cp = 0x648;
            break;
        case 0x6a9: /* ک گ ڭ -> ك: Moroccan g is written several ways */
        case 0x6af:
        case 0x6ad:
            cp = 0x643;
            break;
        case 0x6a4: /* ڤ -> ف */
            cp = 0x641;
            break;
        default:
            break;
        }
        return (int)am_utf8_encode(cp, out);
    }
    if (cp == 0x763) /* ݣ (Moroccan g) -> ك */
        return (int)am_utf8_encode(0x643, out);
    return (int)am_utf8_encode(cp, out);
}

/* Words that name a kind of street, and articles, in normalised form: left out of the core. */
static const char *const noise_words[] = {
    "boulevard",
    "bd",
    "bld",
    "blvd",
    "bvd",
    "boul",
    "av",
    "ave",
    "avenue",
    "rue",
    "route",
    "rte",
    "place",
    "pl",
    "zenqa",
    "zanqa",
    "zenka",
    "zanka",
    "zankat",
    "zenkat",
    "znqa",
    "derb",
    "drb",
    "ale",
    /* allée */ "impase",
    /* impasse */ "pasage",
    /* passage */ "chemin",
    "tremie",
    "autoroute",
    "rocade",
    "de",
    "du",
    "des",
    "d",
    "la",
    "le",
    "les",
    "l",
    "el",
    "al",
    "شارع",
    "زنقه",
    "درب",
    "ساحه",
    "طريق",
    "ممر",
    "نهج",
    "زقاق",
    "نفق",
};

static bool is_noise(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(noise_words) / sizeof(noise_words[0]); i++)
        if (strlen(noise_words[i]) == n && memcmp(noise_words[i], w, n) == 0)
            return true;
    return false;
}

/*
 * Doubled Latin letters count once (Mohammed, Mohamed; Riffi, Rifi), except
 * in Roman numerals (Hassan II is not Hassan I): the word out[start..end)
 * is rewritten in place; returns its new end.
 */
static size_t single_letters(char *out, size_t start, size_t end)
{
    bool roman = true;
    for (size_t i = start; i < end && roman; i++)
        roman = out[i] == 'i' || out[i] == 'v' || out[i] == 'x';
    if (roman)
        return end;
    size_t w = start;
    for (size_t i = start; i < end; i++)
        if (!(w > start && out[i] >= 'a' && out[i] <= 'z' && out[w - 1] == out[i]))
            out[w++] = out[i];
    return w;
}

/*
 * geo_streets_normalize(); with `join`, apostrophes join the letters around
 * them ("M'guild" -> "mguild") instead of separating them ("m guild").
 */
static size_t normalize(const char *in, size_t len, bool core, bool join, char *out, size_t outsz)
{
    if (!outsz)
        return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t w = 0, done = 0, start = 0; /* bytes written; end of the last whole word; its start */
    bool in_word = false;
    for (size_t i = 0; in && i < len;) {
        uint32_t cp = utf8_next(s, len, &i);
        char buf[4];
        int k = join && is_apostrophe(cp) ? FOLD_DROP : fold(cp, buf);
        if (k == FOLD_DROP)
            continue;
        if (k == FOLD_SEP) {
            if (in_word)
                done = w = single_letters(out, start, w);
            in_word = false;
            continue;
        }
        size_t need = (size_t)k + (!in_word && w ? 1 : 0);
        if (w + need + 1 > outsz) {
            w = done;
            in_word = false;
            break;
        }
        if (!in_word && w)
            out[w++] = ' ';
        if (!in_word)
            start = w;
        memcpy(out + w, buf, (size_t)k);
        w += (size_t)k;
        in_word = true;
    }
    if (in_word)
        w = single_letters(out, start, w);
    out[w] = '\0';
    if (!core || !w)
        return w;
    /* The core: the same words without the noise, unless only noise is there. */
    bool any = false;
    for (size_t a = 0; a < w && !any;) {
        size_t b = a;
        while (b < w && out[b] != ' ')
            b++;
        any = !is_noise(out + a, b - a);
        a = b + 1;
    }
    if (!any)
        return w;
    size_t r = 0;
    for (size_t a = 0; a < w;) {
        size_t b = a;
        while (b < w && out[b] != ' ')
            b++;
        if (!is_noise(out + a, b - a)) {
            if (r)
                out[r++] = ' ';
            memmove(out + r, out + a, b - a);
            r += b - a;
        }
        a = b + 1;
    }
    out[r] = '\0';
    return r;
}

size_t geo_streets_normalize(const char *in, size_t len, bool core, char *out, size_t outsz)
{
    return normalize(in, len, core, false, out, outsz);
}

/* ---------------------------------------------------------------- the index */

void geo_streets_free(struct geo_streets *s)
{
    if (!s)
        return;
    free(s->geo);
    free(s->off);
    free(s->blob);
    free(s->name3);
    free(s->keys);
    free(s->kblob);
    free(s->words);
    free(s->postings);
    free(s);
}

struct word_ref {
    uint32_t off, len, key;
};

static int word_cmp(const void *x, const void *y, void *arg)
{
    const struct word_ref *a = x, *b = y;
    const char *kb = arg;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(kb + a->off, kb + b->off, n);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Appends n bytes and a NUL to the key blob; the offset in *at. */
static int kblob_add(char **blob, size_t *len, size_t *cap, const char *p, size_t n, uint32_t *at)
{
    if (*len + n + 1 > UINT32_MAX)
        return AM_ETOOBIG;
    if (am_grow(blob, cap, *len + n + 1, 1, 4096))
        return AM_ENOMEM;
    memcpy(*blob + *len, p, n);
    (*blob)[*len + n] = '\0';
    *at = (uint32_t)*len;
    *len += n + 1;
    return 0;
}

/* Builds names, keys, words and postings from geo, off and blob (already checked). */
static int index_build(struct geo_streets *s)
{
    int rc = AM_ENOMEM;
    size_t kcap = 0, kblen = 0, kbcap = 0, wcap = 0, nref = 0;
    struct word_ref *refs = NULL;
    s->name3 = malloc(((size_t)s->n * 3 + 1) * sizeof(char *));
    if (!s->name3)
        goto out;
    char core[GEO_STREETS_NAME_MAX + 1], full[GEO_STREETS_NAME_MAX + 1];
    for (uint32_t i = 0; i < s->n; i++) {
        const char *p = s->blob + s->off[i], *end = s->blob + s->off[i + 1];
        uint32_t first_key = s->nkeys;
        for (int k = 0; p < end; k++) {
            size_t plen = strlen(p);
            if (k < 3)
                s->name3[3 * (size_t)i + (size_t)k] = p;
            /* A value may list several names: "a;b". */
            for (const char *a = p; a < p + plen;) {
                const char *b = memchr(a, ';', (size_t)(p + plen - a));
                if (!b)
                    b = p + plen;
                for (int join = 0; join < 2; join++) {
                    size_t lc = normalize(a, (size_t)(b - a), true, join, core, sizeof(core));
                    size_t lf = normalize(a, (size_t)(b - a), false, join, full, sizeof(full));
                    if (!lc)
                        continue;
                    bool dup = s->nkeys - first_key >= STREET_MAX_KEYS;
                    for (uint32_t q = first_key; q < s->nkeys && !dup; q++)
                        dup = s->keys[q].core_len == lc && s->keys[q].full_len == lf &&
                              memcmp(s->kblob + s->keys[q].core, core, lc) == 0 &&
                              memcmp(s->kblob + s->keys[q].full, full, lf) == 0;
                    if (dup)
                        continue;
                    if (am_grow(&s->keys, &kcap, (size_t)s->nkeys + 1, sizeof(*s->keys), 256))
                        goto out;
                    struct street_key *key = &s->keys[s->nkeys];
                    key->street = i;
                    key->core_len = (uint16_t)lc;
                    key->full_len = (uint16_t)lf;
                    if ((rc = kblob_add(&s->kblob, &kblen, &kbcap, core, lc, &key->core)) ||
                        (rc = kblob_add(&s->kblob, &kblen, &kbcap, full, lf, &key->full)))
                        goto out;
                    rc = AM_ENOMEM;
                    /* Its words, for the word list. */
                    for (uint32_t x = 0; x < lc;) {
                        uint32_t y = x;
                        while (y < lc && core[y] != ' ')
                            y++;
                        if (am_grow(&refs, &wcap, nref + 1, sizeof(*refs), 1024))
                            goto out;
                        refs[nref++] = (struct word_ref){key->core + x, y - x, s->nkeys};
                        x = y + 1;
                    }
                    if (s->nkeys == UINT32_MAX - 1) {
                        rc = AM_ETOOBIG;
                        goto out;
                    }
                    s->nkeys++;
                }
                a = b + 1;
            }
            p += plen + 1;
        }
    }
    s->kblob_len = (uint32_t)kblen;
    if (nref > UINT32_MAX) {
        rc = AM_ETOOBIG;
        goto out;
    }
    if (nref)
        qsort_r(refs, nref, sizeof(*refs), word_cmp, s->kblob);
    s->words = malloc((nref + 1) * sizeof(*s->words));
    s->postings = malloc((nref ? nref : 1) * sizeof(uint32_t));
    if (!s->words || !s->postings)
        goto out;
    for (size_t j = 0; j < nref; j++) {
        const struct word_ref *r = &refs[j];
        bool same = s->nwords && s->words[s->nwords - 1].len == r->len &&
                    memcmp(s->kblob + s->words[s->nwords - 1].off, s->kblob + r->off, r->len) == 0;
        if (!same)
            s->words[s->nwords++] = (struct street_word){r->off, r->len, s->npostings};
        else if (s->postings[s->npostings - 1] == r->key)
            continue;
        s->postings[s->npostings++] = r->key;
    }
    s->words[s->nwords].first = s->npostings; /* the end of the last word's keys */
    rc = 0;
out:
    free(refs);
    return rc;
}

/* ---------------------------------------------------------------- building */

struct way_info {
    char *fr, *ar; /* malloc'd; "" when none */
    char *key;     /* the normalised full name that groups ways: of fr, else ar */
    double len_m;  /* length of the way */
    double s, w, n, e;
    uint32_t parent; /* union-find */
};

static bool is_arabic_letter(uint32_t cp)
{
    return (cp >= 0x620 && cp <= 0x64a) || (cp >= 0x66e && cp <= 0x6d3) ||
           (cp >= 0x750 && cp <= 0x77f) || (cp >= 0x8a0 && cp <= 0x8ff) ||
           (cp >= 0xfb50 && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefc);
}

static bool is_latin_letter(uint32_t cp)
{
    return (cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) ||
           (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
           (cp >= 0x1e00 && cp <= 0x1eff);
}

/* A malloc'd copy of s[a..b) without surrounding spaces and dashes. */
static char *trimmed(const char *s, size_t a, size_t b)
{
    while (a < b && strchr(" \t-/|,;:", s[a]))
        a++;
    while (b > a && strchr(" \t-/|,;:", s[b - 1]))
        b--;
    char *r = malloc(b - a + 1);
    if (r) {
        memcpy(r, s + a, b - a);
        r[b - a] = '\0';
    }
    return r;
}

/*
 * Splits a name written in both scripts ("Boulevard Anoual شارع أنوال") at
 * the first letter of the script it does not start with: *latin and *arabic
 * get new strings ("" for a script absent). Returns 0 or AM_ENOMEM.
 */
static int split_scripts(const char *s, char **latin, char **arabic)
{
    size_t len = strlen(s), i = 0, split = len;
    int first = 0; /* 1 Latin, 2 Arabic */
    bool has_latin = false, has_arabic = false;
    while (i < len) {
        size_t at = i;
        uint32_t cp = utf8_next((const unsigned char *)s, len, &i);
        int script = is_latin_letter(cp) ? 1 : is_arabic_letter(cp) ? 2 : 0;
        if (!script)
            continue;
        has_latin |= script == 1;
        has_arabic |= script == 2;
        if (!first)
            first = script;
        else if (script != first && split == len)
            split = at;
    }
    *latin = *arabic = NULL;
    if (has_latin && has_arabic) {
        char *a = trimmed(s, 0, split), *b = trimmed(s, split, len);
        *latin = first == 1 ? a : b;
        *arabic = first == 1 ? b : a;
    } else {
        *latin = trimmed(s, 0, has_latin ? len : 0);
        *arabic = trimmed(s, 0, has_arabic ? len : 0);
    }
    if (!*latin || !*arabic) {
        free(*latin);
        free(*arabic);
        *latin = *arabic = NULL;
        return AM_ENOMEM;
    }
    return 0;
}

/* A name the index keeps: not empty, not too long, UTF-8 without control characters. */
static bool usable(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (!len || len > GEO_STREETS_NAME_MAX || !am_utf8_valid(name, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

/* The French and Arabic names of a way, from name:fr and name:ar or else from name. */
static int way_names(const struct geo_street_way *w, struct way_info *wi)
{
    const char *name = usable(w->names[GEO_WN_NAME]) ? w->names[GEO_WN_NAME] : NULL;
    const char *fr = usable(w->names[GEO_WN_FR]) ? w->names[GEO_WN_FR] : NULL;
    const char *ar = usable(w->names[GEO_WN_AR]) ? w->names[GEO_WN_AR] : NULL;
    char *nl = NULL, *na = NULL, *fl = NULL, *fa = NULL, *al = NULL, *aa = NULL;
    int rc = AM_ENOMEM;
    if (split_scripts(name ? name : "", &nl, &na) || split_scripts(fr ? fr : "", &fl, &fa) ||
        split_scripts(ar ? ar : "", &al, &aa))
        goto out;
    /* name:fr (its Latin part if it carries both), else the Latin part of name. */
    wi->fr = fl[0] ? fl : nl;
    wi->ar = aa[0] ? aa : na;
    if (wi->fr == fl)
        fl = NULL;
    else
        nl = NULL;
    if (wi->ar == aa)
        aa = NULL;
    else
        na = NULL;
    rc = 0;
out:
    free(nl);
    free(na);
    free(fl);
    free(fa);
    free(al);
    free(aa);
    return rc;
}

static uint32_t uf_find(struct way_info *wi, uint32_t i)
{
    while (wi[i].parent != i) {
        wi[i].parent = wi[wi[i].parent].parent;
        i = wi[i].parent;
    }
    return i;
}

/* The gap in metres between two boxes (0 if they meet). */
static double box_gap_m(const struct way_info *a, const struct way_info *b)
{
    double dy = fmax(0, fmax(a->s - b->n, b->s - a->n));
    double dx = fmax(0, fmax(a->w - b->e, b->w - a->e));
    double ky = GEO_EARTH_RADIUS_M * M_PI / 180.0;
    double kx = ky * cos((a->s + a->n) / 2 * M_PI / 180.0);
    return hypot(dy * ky, dx * kx);
}

static int way_cmp(const void *x, const void *y, void *arg)
{
    const struct way_info *wi = arg;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = strcmp(wi[a].key, wi[b].key);
    return c ? c : (a > b) - (a < b);
}

/* The point half-way along a way, by length. */
static void way_middle(const struct geo_street_way *w, double *lat, double *lon)
{
    double total = 0;
    for (uint32_t k = 1; k < w->npoints; k++)
        total += geo_distance_m(w->lat_e7[k - 1] / GEO_E7, w->lon_e7[k - 1] / GEO_E7,
                                w->lat_e7[k] / GEO_E7, w->lon_e7[k] / GEO_E7);
    *lat = w->lat_e7[0] / GEO_E7;
    *lon = w->lon_e7[0] / GEO_E7;
    double run = 0;
    for (uint32_t k = 1; k < w->npoints; k++) {
        double la0 = w->lat_e7[k - 1] / GEO_E7, lo0 = w->lon_e7[k - 1] / GEO_E7;
        double la1 = w->lat_e7[k] / GEO_E7, lo1 = w->lon_e7[k] / GEO_E7;
        double d = geo_distance_m(la0, lo0, la1, lo1);
        if (run + d >= total / 2 && d > 0) {
            double t = (total / 2 - run) / d;
            *lat = la0 + (la1 - la0) * t;
            *lon = lo0 + (lo1 - lo0) * t;
            return;
        }
        run += d;
    }
}

/* Adds a name to a street's list unless empty, too long or already there. */
static void add_name(const char **list, size_t *n, const char *name)
{
    if (!usable(name) || *n >= GEO_STREETS_MAX_NAMES)
        return;
    for (size_t i = 0; i < *n; i++)
        if (list[i] && strcmp(list[i], name) == 0)
            return;
    list[(*n)++] = name;
}

int geo_streets_build(const struct geo_roads *g, const struct geo_street_way *ways, size_t n,
                      struct geo_streets **out)
{
    *out = NULL;
    int rc = AM_ENOMEM;
    struct way_info *wi = calloc(n ? n : 1, sizeof(*wi));
    uint32_t *order = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *members = malloc((n ? n : 1) * sizeof(uint32_t));
    struct geo_streets *s = calloc(1, sizeof(*s));
    size_t blob_cap = 0, blob_len = 0, cap = 0, offcap = 0, nw = 0;
    char keybuf[GEO_STREETS_NAME_MAX + 1];
    if (!wi || !order || !members || !s)
        goto out;
    if (n > UINT32_MAX - 1) {
        rc = AM_ETOOBIG;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct geo_street_way *w = &ways[i];
        wi[i].parent = (uint32_t)i;
        if (way_names(w, &wi[i]))
            goto out;
        /* Grouped by the French name, else the Arabic one, else the name (Tifinagh, digits). */
        const char *k = wi[i].fr[0]                     ? wi[i].fr
                        : wi[i].ar[0]                   ? wi[i].ar
                        : usable(w->names[GEO_WN_NAME]) ? w->names[GEO_WN_NAME]
                                                        : "";
        size_t kl = normalize(k, strlen(k), false, false, keybuf, sizeof(keybuf));
        if (!kl || w->npoints == 0)
            continue; /* nothing to find it by, or nowhere */
        if (!(wi[i].key = malloc(kl + 1)))
            goto out;
        memcpy(wi[i].key, keybuf, kl + 1);
        wi[i].s = wi[i].w = INFINITY;
        wi[i].n = wi[i].e = -INFINITY;
        for (uint32_t p = 0; p < w->npoints; p++) {
            double la = w->lat_e7[p] / GEO_E7, lo = w->lon_e7[p] / GEO_E7;
            wi[i].s = fmin(wi[i].s, la);
            wi[i].n = fmax(wi[i].n, la);
            wi[i].w = fmin(wi[i].w, lo);
            wi[i].e = fmax(wi[i].e, lo);
            if (p)
                wi[i].len_m +=
                    geo_distance_m(w->lat_e7[p - 1] / GEO_E7, w->lon_e7[p - 1] / GEO_E7, la, lo);
        }
        order[nw++] = (uint32_t)i;
    }
    qsort_r(order, nw, sizeof(uint32_t), way_cmp, wi);

    /* Ways of one name within STREET_JOIN_M of each other are one street. */
    for (size_t a = 0; a < nw;) {
        size_t b = a + 1;
        while (b < nw && strcmp(wi[order[a]].key, wi[order[b]].key) == 0)
            b++;
        for (size_t x = a; x < b; x++)
            for (size_t y = x + 1; y < b; y++) {
                uint32_t rx = uf_find(wi, order[x]), ry = uf_find(wi, order[y]);
                if (rx != ry && box_gap_m(&wi[order[x]], &wi[order[y]]) <= STREET_JOIN_M)
                    wi[rx > ry ? rx : ry].parent = rx < ry ? rx : ry;
            }
        /* One street per root, in the order of their first way. */
        for (size_t x = a; x < b; x++) {
            uint32_t root = uf_find(wi, order[x]);
            bool seen = false;
            for (size_t y = a; y < x && !seen; y++)
                seen = uf_find(wi, order[y]) == root;
            if (seen)
                continue;
            size_t nm = 0, longest = 0;
            for (size_t y = x; y < b; y++)
                if (uf_find(wi, order[y]) == root) {
                    members[nm] = order[y];
                    if (wi[members[nm]].len_m > wi[members[longest]].len_m)
                        longest = nm;
                    nm++;
                }
            if (s->n >= GEO_STREETS_MAX) {
                rc = AM_ETOOBIG;
                goto out;
            }
            /* Names: the longest way's first, then what the others add. */
            const struct geo_street_way *lw = &ways[members[longest]];
            const char *name = usable(lw->names[GEO_WN_NAME]) ? lw->names[GEO_WN_NAME] : NULL;
            const char *fr = wi[members[longest]].fr, *ar = wi[members[longest]].ar;
            for (size_t y = 0; y < nm; y++) {
                if (!fr[0])
                    fr = wi[members[y]].fr;
                if (!ar[0])
                    ar = wi[members[y]].ar;
                if (!name && usable(ways[members[y]].names[GEO_WN_NAME]))
                    name = ways[members[y]].names[GEO_WN_NAME];
            }
            const char *list[GEO_STREETS_MAX_NAMES];
            size_t nl = 3;
            list[0] = name ? name : fr[0] ? fr : ar;
            list[1] = ar;
            list[2] = fr;
            for (size_t y = 0; y < nm; y++) {
                const struct geo_street_way *w = &ways[members[y]];
                for (int k = 0; k < GEO_WN_COUNT; k++)
                    add_name(list, &nl, w->names[k]);
                add_name(list, &nl, wi[members[y]].fr);
                add_name(list, &nl, wi[members[y]].ar);
            }
            /* The point: the middle of the longest way, on the road if one is near. */
            double lat, lon;
            way_middle(lw, &lat, &lon);
            struct geo_snap sn;
            if (g && geo_roads_snap(g, lat, lon, STREET_SNAP_M, &sn) == 0) {
                lat = sn.lat;
                lon = sn.lon;
            }
            double bs = INFINITY, bw = INFINITY, bn = -INFINITY, be = -INFINITY;
            for (size_t y = 0; y < nm; y++) {
                bs = fmin(bs, wi[members[y]].s);
                bw = fmin(bw, wi[members[y]].w);
                bn = fmax(bn, wi[members[y]].n);
                be = fmax(be, wi[members[y]].e);
            }
            if (am_grow(&s->geo, &cap, (size_t)s->n * 6 + 6, sizeof(int32_t), 1024) ||
                am_grow(&s->off, &offcap, (size_t)s->n + 2, sizeof(uint32_t), 256))
                goto out;
            int32_t *gp = s->geo + (size_t)s->n * 6;
            gp[0] = (int32_t)lround(lat * GEO_E7);
            gp[1] = (int32_t)lround(lon * GEO_E7);
            gp[2] = (int32_t)lround(bs * GEO_E7);
            gp[3] = (int32_t)lround(bw * GEO_E7);
            gp[4] = (int32_t)lround(bn * GEO_E7);
            gp[5] = (int32_t)lround(be * GEO_E7);
            s->off[s->n] = (uint32_t)blob_len;
            for (size_t k = 0; k < nl; k++) {
                size_t l = strlen(list[k]);
                if (blob_len + l + 1 > UINT32_MAX) {
                    rc = AM_ETOOBIG;
                    goto out;
                }
                if (am_grow(&s->blob, &blob_cap, blob_len + l + 1, 1, 4096))
                    goto out;
                memcpy(s->blob + blob_len, list[k], l + 1);
                blob_len += l + 1;
            }
            s->n++;
            s->off[s->n] = (uint32_t)blob_len;
        }
        a = b;
    }
    if (!s->off && !(s->off = calloc(1, sizeof(uint32_t))))
        goto out;
    if (!s->geo && !(s->geo = malloc(sizeof(int32_t))))
        goto out;
    if (!s->blob && !(s->blob = malloc(1)))
        goto out;
    s->blob_len = (uint32_t)blob_len;
    rc = index_build(s);
out:
    for (size_t i = 0; wi && i < n; i++) {
        free(wi[i].fr);
        free(wi[i].ar);
        free(wi[i].key);
    }
    free(wi);
    free(order);
    free(members);
    if (rc) {
        geo_streets_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- storage */

/*
 * Stored form (native byte order, like the rest of the graph file):
 * u32 nstreets, u32 blob_len, i32 geo[6 n], u32 off[n + 1], blob.
 */
static uint64_t stored_size(uint64_t n, uint64_t blob_len)
{
    return 8 + n * 24 + (n + 1) * 4 + blob_len;
}

int geo_streets_serialize(const struct geo_streets *s, char **buf, size_t *len)
{
    size_t total = (size_t)stored_size(s->n, s->blob_len);
    char *p = malloc(total);
    if (!p)
        return AM_ENOMEM;
    memcpy(p, &s->n, 4);
    memcpy(p + 4, &s->blob_len, 4);
    memcpy(p + 8, s->geo, (size_t)s->n * 24);
    memcpy(p + 8 + (size_t)s->n * 24, s->off, ((size_t)s->n + 1) * 4);
    memcpy(p + 8 + (size_t)s->n * 28 + 4, s->blob, s->blob_len);
    *buf = p;
    *len = total;
    return 0;
}

/* Checks street i's names: 3 to GEO_STREETS_MAX_NAMES NUL-terminated UTF-8 strings. */
static int check_names(const struct geo_streets *s, uint32_t i, char *why, size_t whysz)
{
    const char *p = s->blob + s->off[i], *end = s->blob + s->off[i + 1];
    if (p == end || end[-1] != '\0')
        return am_why(why, whysz, AM_ECORRUPT, "street %u: names not terminated", i);
    size_t k = 0, total = 0;
    for (; p < end; k++) {
        size_t l = strlen(p);
        if (l > GEO_STREETS_NAME_MAX || !am_utf8_valid(p, l))
            return am_why(why, whysz, AM_ECORRUPT, "street %u: name %zu is not valid", i, k);
        for (size_t c = 0; c < l; c++)
            if ((unsigned char)p[c] < 0x20 || p[c] == 0x7f)
                return am_why(why, whysz, AM_ECORRUPT, "street %u: control character", i);
        total += l;
        p += l + 1;
    }
    if (k < 3 || k > GEO_STREETS_MAX_NAMES || total == 0)
        return am_why(why, whysz, AM_ECORRUPT, "street %u: %zu names", i, k);
    return 0;
}

int geo_streets_deserialize(const char *buf, size_t len, struct geo_streets **out, char *why,
                            size_t whysz)
{
    *out = NULL;
    uint32_t n, blob_len;
    if (len < 8)
        return am_why(why, whysz, AM_ECORRUPT, "street index cut short");
    memcpy(&n, buf, 4);
    memcpy(&blob_len, buf + 4, 4);
    if (n > GEO_STREETS_MAX || stored_size(n, blob_len) != len)
        return am_why(why, whysz, AM_ECORRUPT, "street index: %u streets, %u bytes of names in %zu",
                      n, blob_len, len);
    int rc = AM_ENOMEM;
    struct geo_streets *s = calloc(1, sizeof(*s));
    if (!s)
        return AM_ENOMEM;
    s->n = n;
    s->blob_len = blob_len;
    s->geo = malloc((size_t)n * 24 + 4);
    s->off = malloc(((size_t)n + 1) * 4);
    s->blob = malloc((size_t)blob_len + 1);
    if (!s->geo || !s->off || !s->blob)
        goto out;
    memcpy(s->geo, buf + 8, (size_t)n * 24);
    memcpy(s->off, buf + 8 + (size_t)n * 24, ((size_t)n + 1) * 4);
    memcpy(s->blob, buf + 8 + (size_t)n * 28 + 4, blob_len);
    s->blob[blob_len] = '\0';
    rc = AM_ECORRUPT;
    if (s->off[0] != 0 || s->off[n] != blob_len) {
        am_why(why, whysz, rc, "street index: name offsets do not match");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (s->off[i] >= s->off[i + 1]) {
            am_why(why, whysz, rc, "street %u: name offsets not ordered", i);
            goto out;
        }
        if (check_names(s, i, why, whysz))
            goto out;
        const int32_t *gp = s->geo + (size_t)i * 6;
        for (int k = 0; k < 6; k += 2)
            if (gp[k] < -900000000 || gp[k] > 900000000 || gp[k + 1] < -1800000000 ||
                gp[k + 1] > 1800000000) {
                am_why(why, whysz, rc, "street %u: coordinates out of range", i);
                goto out;
            }
        if (gp[2] > gp[4] || gp[3] > gp[5]) {
            am_why(why, whysz, rc, "street %u: bounding box inverted", i);
            goto out;
        }
    }
    rc = index_build(s);
    if (rc)
        am_why(why, whysz, rc, "%s", rc == AM_ENOMEM ? "out of memory" : "street index too big");
out:
    if (rc) {
        geo_streets_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- queries */

const struct geo_streets *geo_roads_streets(const struct geo_roads *g)
{
    return g ? g->streets : NULL;
}

size_t geo_streets_count(const struct geo_streets *s)
{
    return s ? s->n : 0;
}

bool geo_streets_get(const struct geo_streets *s, size_t i, struct geo_street *out)
{
    if (!s || i >= s->n || !out)
        return false;
    const int32_t *gp = s->geo + i * 6;
    *out = (struct geo_street){
        .id = (uint32_t)i,
        .match = GEO_MATCH_EXACT,
        .name = s->name3[3 * i],
        .name_ar = s->name3[3 * i + 1],
        .name_fr = s->name3[3 * i + 2],
        .lat = gp[0] / GEO_E7,
        .lon = gp[1] / GEO_E7,
        .south = gp[2] / GEO_E7,
        .west = gp[3] / GEO_E7,
        .north = gp[4] / GEO_E7,
        .east = gp[5] / GEO_E7,
    };
    return true;
}

struct qword {
    const char *p;
    size_t len;
};

struct hit {
    uint32_t street;
    uint32_t tier; /* 0 full name, 1 core, 2 word prefixes, 3 substrings */
    uint32_t len;  /* of the key's core */
};

struct query {
    const struct geo_streets *s;
    char core[GEO_STREETS_QUERY_MAX + 1], full[GEO_STREETS_QUERY_MAX + 1];
    size_t core_len, full_len;
    struct qword w[QUERY_MAX_WORDS];
    size_t nw;
    struct hit *hits;
    size_t nhits, cap;
};

/* Whether every query word starts (or, with `inside`, is inside) a word of text[0..len). */
static bool words_match(const struct query *q, const char *text, size_t len, bool inside)
{
    for (size_t i = 0; i < q->nw; i++) {
        bool found = false;
        for (size_t a = 0; a < len && !found;) {
            size_t b = a;
            while (b < len && text[b] != ' ')
                b++;
            if (inside)
                found = memmem(text + a, b - a, q->w[i].p, q->w[i].len) != NULL;
            else
                found = b - a >= q->w[i].len && memcmp(text + a, q->w[i].p, q->w[i].len) == 0;
            a = b + 1;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Rates key k against the query and keeps it if it matches. */
static int consider(struct query *q, uint32_t k)
{
    const struct street_key *key = &q->s->keys[k];
    const char *core = q->s->kblob + key->core, *full = q->s->kblob + key->full;
    uint32_t tier;
    if (key->full_len == q->full_len && memcmp(full, q->full, q->full_len) == 0)
        tier = 0;
    else if (key->core_len == q->core_len && memcmp(core, q->core, q->core_len) == 0)
        tier = 1;
    else if (words_match(q, core, key->core_len, false))
        tier = 2;
    else if (words_match(q, core, key->core_len, true))
        tier = 3;
    else
        return 0;
    if (am_grow(&q->hits, &q->cap, q->nhits + 1, sizeof(*q->hits), 64))
        return AM_ENOMEM;
    q->hits[q->nhits++] = (struct hit){key->street, tier, key->core_len};
    return 0;
}

static int hit_by_street(const void *x, const void *y)
{
    const struct hit *a = x, *b = y;
    if (a->street != b->street)
        return a->street < b->street ? -1 : 1;
    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static int hit_by_rank(const void *x, const void *y)
{
    const struct hit *a = x, *b = y;
    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return (a->street > b->street) - (a->street < b->street);
}

/* Keeps each street's best hit; returns how many streets. */
static size_t dedupe(struct query *q)
{
    if (!q->nhits)
        return 0;
    qsort(q->hits, q->nhits, sizeof(*q->hits), hit_by_street);
    size_t n = 1;
    for (size_t i = 1; i < q->nhits; i++)
        if (q->hits[i].street != q->hits[n - 1].street)
            q->hits[n++] = q->hits[i];
    q->nhits = n;
    return n;
}

/* The first word (by bytes) not before `p`. */
static uint32_t lower_bound(const struct geo_streets *s, const char *p, size_t len)
{
    uint32_t lo = 0, hi = s->nwords;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct street_word *w = &s->words[mid];
        size_t n = w->len < len ? w->len : len;
        int c = memcmp(s->kblob + w->off, p, n);
        if (c < 0 || (c == 0 && w->len < len))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int geo_streets_search(const struct geo_streets *s, const char *query, size_t max,
                       struct geo_street *out)
{
    if (!s || !query || (max && !out))
        return AM_EINVAL;
    size_t ql = strnlen(query, GEO_STREETS_QUERY_MAX + 1);
    if (ql > GEO_STREETS_QUERY_MAX)
        return AM_EINVAL;
    struct query *q = calloc(1, sizeof(*q));
    if (!q)
        return AM_ENOMEM;
    int rc = 0;
    q->s = s;
    q->core_len = normalize(query, ql, true, false, q->core, sizeof(q->core));
    q->full_len = normalize(query, ql, false, false, q->full, sizeof(q->full));
    if (!q->core_len || !max || !s->nwords)
        goto out;
    /* The query's words; the longest is the most selective to look up. */
    size_t pivot = 0;
    for (size_t a = 0; a < q->core_len && q->nw < QUERY_MAX_WORDS;) {
        size_t b = a;
        while (b < q->core_len && q->core[b] != ' ')
            b++;
        q->w[q->nw] = (struct qword){q->core + a, b - a};
        if (b - a > q->w[pivot].len)
            pivot = q->nw;
        q->nw++;
        a = b + 1;
    }
    const struct qword *pw = &q->w[pivot];
    /* Words that start with the pivot: a range of the sorted words. */
    uint32_t lo = lower_bound(s, pw->p, pw->len), hi = lo;
    while (hi < s->nwords && s->words[hi].len >= pw->len &&
           memcmp(s->kblob + s->words[hi].off, pw->p, pw->len) == 0)
        hi++;
    for (uint32_t w = lo; w < hi; w++)
        for (uint32_t k = s->words[w].first; k < s->words[w + 1].first; k++)
            if ((rc = consider(q, s->postings[k])) != 0)
                goto out;
    size_t found = dedupe(q), better = 0;
    for (size_t i = 0; i < q->nhits; i++)
        better += q->hits[i].tier <= 2;
    /* Not enough exact or prefix matches: words that hold the pivot elsewhere (only those
     * keys can match as substrings but not by prefix). */
    if (better < max) {
        for (uint32_t w = 0; w < s->nwords; w++) {
            if (w == lo)
                w = hi;
            if (w >= s->nwords)
                break;
            const struct street_word *sw = &s->words[w];
            if (sw->len <= pw->len || !memmem(s->kblob + sw->off, sw->len, pw->p, pw->len))
                continue;
            for (uint32_t k = sw->first; k < s->words[w + 1].first; k++)
                if ((rc = consider(q, s->postings[k])) != 0)
                    goto out;
        }
        found = dedupe(q);
    }
    if (q->nhits)
        qsort(q->hits, q->nhits, sizeof(*q->hits), hit_by_rank);
    if (found > max)
        found = max;
    for (size_t i = 0; i < found; i++) {
        geo_streets_get(s, q->hits[i].street, &out[i]);
        out[i].match = q->hits[i].tier <= 1   ? GEO_MATCH_EXACT
                       : q->hits[i].tier == 2 ? GEO_MATCH_PREFIX
                                              : GEO_MATCH_SUBSTRING;
    }
    rc = (int)found;
out:
    free(q->hits);
    free(q);
    return rc;
}
