/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * index.c - the persons' names in memory, for searches across scripts and
 * spellings over millions of persons in milliseconds.
 *
 * The vocabulary holds each distinct token spelling once (name.h: its fold,
 * skeleton key and phonetic form) with its postings: the persons carrying
 * it, in increasing internal id order (a changed person gets a new internal
 * id, so postings stay sorted). A token's key and each of its one-deletion
 * variants point to the vocabulary entries that have them (SymSpell's
 * deletion neighbourhood), so a query token finds spellings within one
 * consonant of it by a few hash lookups; each is then scored with
 * name_token_sim().
 *
 * A search is a threshold algorithm: the query token with the fewest
 * postings drives; its candidate spellings are walked best first; each
 * person met is scored against every query token through its own token
 * list; the walk stops when the best `limit` persons found cannot be beaten
 * by anyone not yet met. Before it, the persons carrying a best spelling of
 * both rarest tokens are met (pair_phase); during it, once the best found
 * beat anyone lacking some token walked later, that token's carriers are
 * marked in a bitmap and nobody else is read (needed). A full date of birth
 * drives instead when given. The best are then scored again with
 * name_match() (pairing, particles).
 *
 * Meeting a person costs a cache miss or two (its 16-byte record, then its
 * tokens), asked of memory ahead of the walk; at 10 M persons a search
 * meets up to a few hundred thousand, hence the shortcuts.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "records/records_int.h"

/* ------------------------------------------------------------- helpers */

struct u32v {
    uint32_t *v;
    uint32_t n, cap;
};

static int u32v_push(struct u32v *a, uint32_t x)
{
    if (a->n == a->cap) {
        uint32_t cap = a->cap ? a->cap * 2 : 4;
        uint32_t *v = realloc(a->v, (size_t)cap * sizeof(*v));
        if (!v)
            return AM_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* Grows an array of `elem`-byte items to hold at least `need`. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return AM_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/*
 * grow() for the arrays a search reads at random (each person's record,
 * tokens and year): mapped on their own and asked to be in huge pages, so
 * that meeting a person costs a cache miss but not also a TLB miss (the
 * kernel's transparent huge pages in "madvise" mode, Debian's default).
 */
static int grow_big(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : ((size_t)2 << 20) / elem;
    while (c < need)
        c *= 2;
    void *q = *p ? mremap(*p, *cap * elem, c * elem, MREMAP_MAYMOVE)
                 : mmap(NULL, c * elem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        return AM_ENOMEM;
    (void)madvise(q, c * elem, MADV_HUGEPAGE); /* a hint: without it, smaller pages */
    *p = q;
    *cap = c;
    return 0;
}

static void free_big(void *p, size_t cap, size_t elem)
{
    if (p)
        munmap(p, cap * elem);
}

/* grow(), with the new items zeroed. */
static int grow_zeroed(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t old = *cap;
    int rc = grow(p, cap, need, elem);
    if (!rc && *cap > old)
        memset((char *)*p + old * elem, 0, (*cap - old) * elem);
    return rc;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/*
 * A map from strings to uint32 values, open addressing; the keys live in
 * one character pool. Values are indexes into the caller's arrays.
 */
struct smap {
    uint32_t *slot; /* entry + 1, or 0 */
    size_t mask;
    uint32_t n;
    size_t *koff;
    uint32_t *val;
    size_t cap_koff, cap_val;
    char *chars;
    size_t nchars, cap_chars;
};

static void smap_free(struct smap *m)
{
    free(m->slot);
    free(m->koff);
    free(m->val);
    free(m->chars);
}

static bool smap_eq(const struct smap *m, uint32_t e, const char *k, size_t len)
{
    const char *s = m->chars + m->koff[e];
    return strncmp(s, k, len) == 0 && s[len] == '\0';
}

/* The value of `k`, or UINT32_MAX. */
static uint32_t smap_get(const struct smap *m, const char *k, size_t len)
{
    if (!m->slot)
        return UINT32_MAX;
    for (size_t i = hash_bytes(k, len) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t e = m->slot[i];
        if (!e)
            return UINT32_MAX;
        if (smap_eq(m, e - 1, k, len))
            return m->val[e - 1];
    }
}

static int smap_rehash(struct smap *m, size_t cap)
{
    uint32_t *slot = calloc(cap, sizeof(*slot));
    if (!slot)
        return AM_ENOMEM;
    for (uint32_t e = 0; e < m->n; e++) {
        const char *s = m->chars + m->koff[e];
        size_t i = hash_bytes(s, strlen(s)) & (cap - 1);
        while (slot[i])
            i = (i + 1) & (cap - 1);
        slot[i] = e + 1;
    }
    free(m->slot);
    m->slot = slot;
    m->mask = cap - 1;
    return 0;
}

/* Adds `k` with `v` (the caller checked it is absent). */
static int smap_put(struct smap *m, const char *k, size_t len, uint32_t v)
{
    if (!m->slot || (size_t)(m->n + 1) * 2 > m->mask + 1) {
        int rc = smap_rehash(m, m->slot ? (m->mask + 1) * 2 : 1024);
        if (rc)
            return rc;
    }
    if (grow((void **)&m->koff, &m->cap_koff, m->n + 1, sizeof(*m->koff)) ||
        grow((void **)&m->val, &m->cap_val, m->n + 1, sizeof(*m->val)) ||
        grow((void **)&m->chars, &m->cap_chars, m->nchars + len + 1, 1))
        return AM_ENOMEM;
    memcpy(m->chars + m->nchars, k, len);
    m->chars[m->nchars + len] = '\0';
    m->koff[m->n] = m->nchars;
    m->val[m->n] = v;
    m->nchars += len + 1;
    size_t i = hash_bytes(k, len) & m->mask;
    while (m->slot[i])
        i = (i + 1) & m->mask;
    m->slot[i] = ++m->n;
    return 0;
}

/* ------------------------------------------------------------- the index */

enum field { F_GIVEN, F_FAMILY, F_FATHER, F_ALIAS };
static const double FIELD_WEIGHT[4] = {1.0, 1.0, 0.85, 0.95};
#define VID_BITS 30
#define VID_MASK ((1u << VID_BITS) - 1)

/*
 * What a search reads of each person it meets, in 16 bytes: a quarter of a
 * cache line, so that meeting a person costs one miss here and one in `pool`.
 */
struct pers {
    uint32_t off;   /* first token in `pool` */
    int32_t dob;    /* yyyymmdd, 0 for unknown parts */
    uint32_t place; /* entry of `places`, or UINT32_MAX */
    uint8_t n;      /* tokens */
    uint8_t dead;   /* replaced or removed */
};

struct vocab {
    struct name_token tok;
    struct u32v post; /* internal person ids */
};

struct rix {
    pthread_rwlock_t lock;
    struct vocab *voc;
    size_t nvoc, cap_voc;
    struct smap by_fold;    /* fold → vocabulary entry */
    struct smap by_variant; /* key or one-deletion variant → list in `lists` */
    struct u32v *lists;
    size_t nlists, cap_lists;
    struct smap field_cache; /* a field's text → offset in `cache` of [n, tokens...] */
    uint32_t *cache;
    size_t ncache, cap_cache;
    /* Persons by internal id. */
    int64_t *ext; /* the store's id */
    struct pers *pers;
    uint8_t *year; /* year of birth coded (year_code), apart: a filter reads it in passing */
    size_t npers, cap_ext, cap_pers, cap_year;
    uint32_t *pool; /* tokens (entry | field << VID_BITS) */
    size_t npool, cap_pool;
    /* The store's id → internal id + 1 (0: none). */
    uint32_t *by_ext;
    size_t cap_by_ext;
    /* Places of birth: folded text → entry, with tokens for the filter. */
    struct smap places;
    uint64_t live;
    /* Full dates of birth → list in `lists` (a driver for searches). */
    struct smap by_dob;
};

int rix_new(struct rix **out)
{
    struct rix *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return AM_ENOMEM;
    pthread_rwlock_init(&ix->lock, NULL);
    *out = ix;
    return 0;
}

void rix_free(struct rix *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nvoc; i++)
        free(ix->voc[i].post.v);
    for (size_t i = 0; i < ix->nlists; i++)
        free(ix->lists[i].v);
    free(ix->voc);
    free(ix->lists);
    smap_free(&ix->by_fold);
    smap_free(&ix->by_variant);
    smap_free(&ix->field_cache);
    smap_free(&ix->places);
    smap_free(&ix->by_dob);
    free(ix->cache);
    free(ix->ext);
    free_big(ix->pers, ix->cap_pers, sizeof(*ix->pers));
    free_big(ix->year, ix->cap_year, sizeof(*ix->year));
    free_big(ix->pool, ix->cap_pool, sizeof(*ix->pool));
    free(ix->by_ext);
    pthread_rwlock_destroy(&ix->lock);
    free(ix);
}

void rix_write_lock(struct rix *ix)
{
    pthread_rwlock_wrlock(&ix->lock);
}

void rix_write_unlock(struct rix *ix)
{
    pthread_rwlock_unlock(&ix->lock);
}

/*
 * Tokens of a name, with each particle joined to the word after it
 * ("ben jelloun" and "benjelloun", "بن جلون" and "بنجلون" are one token).
 */
static int tokens_of(const char *text, struct name_token *out, size_t max, size_t *n)
{
    int rc = name_tokenize(text, strlen(text), out, max, n);
    if (rc)
        return rc;
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (out[i].particle && i + 1 < *n && out[i].script == out[i + 1].script) {
            char joined[2 * NAME_FOLD_SZ];
            snprintf(joined, sizeof(joined), "%s%s", out[i].fold, out[i + 1].fold);
            struct name_token one[2];
            size_t k = 0;
            if (!name_tokenize(joined, strlen(joined), one, 2, &k) && k == 1) {
                out[w++] = one[0];
                i++;
                continue;
            }
        }
        out[w++] = out[i];
    }
    *n = w;
    return 0;
}

/* The list of `lists` under key `k` in map `m`, created if absent. */
static struct u32v *list_at(struct rix *ix, struct smap *m, const char *k, size_t len)
{
    uint32_t li = smap_get(m, k, len);
    if (li == UINT32_MAX) {
        if (grow((void **)&ix->lists, &ix->cap_lists, ix->nlists + 1, sizeof(*ix->lists)))
            return NULL;
        li = (uint32_t)ix->nlists;
        memset(&ix->lists[li], 0, sizeof(ix->lists[li]));
        if (smap_put(m, k, len, li))
            return NULL;
        ix->nlists++;
    }
    return &ix->lists[li];
}

/* The vocabulary entry of a token, added (with its key variants) if new. */
static int vocab_of(struct rix *ix, const struct name_token *t, uint32_t *vid)
{
    size_t flen = strlen(t->fold);
    uint32_t v = smap_get(&ix->by_fold, t->fold, flen);
    if (v != UINT32_MAX) {
        *vid = v;
        return 0;
    }
    if (ix->nvoc >= VID_MASK ||
        grow((void **)&ix->voc, &ix->cap_voc, ix->nvoc + 1, sizeof(*ix->voc)))
        return AM_ENOMEM;
    v = (uint32_t)ix->nvoc;
    memset(&ix->voc[v], 0, sizeof(ix->voc[v]));
    ix->voc[v].tok = *t;
    if (smap_put(&ix->by_fold, t->fold, flen, v))
        return AM_ENOMEM;
    ix->nvoc++;
    /* The key and each of its one-deletion variants lead here. */
    size_t klen = strlen(t->key);
    char var[NAME_KEY_SZ];
    for (size_t d = 0; d <= klen && klen > 0; d++) {
        size_t m = 0;
        for (size_t i = 0; i < klen; i++)
            if (i != d)
                var[m++] = t->key[i];
        if (d < klen && m == 0)
            continue;
        struct u32v *l = list_at(ix, &ix->by_variant, var, m);
        if (!l)
            return AM_ENOMEM;
        if ((!l->n || l->v[l->n - 1] != v) && u32v_push(l, v))
            return AM_ENOMEM;
    }
    *vid = v;
    return 0;
}

/*
 * The vocabulary entries of a field's text, through the cache (names
 * repeat: a few thousand spellings for millions of persons). Writes at most
 * NAME_TOKENS_MAX into vids; sets *n.
 */
static int field_vids(struct rix *ix, const char *text, uint32_t *vids, size_t *n)
{
    *n = 0;
    size_t len = strlen(text);
    if (!len)
        return 0;
    uint32_t off = smap_get(&ix->field_cache, text, len);
    if (off != UINT32_MAX) {
        *n = ix->cache[off];
        memcpy(vids, ix->cache + off + 1, *n * sizeof(*vids));
        return 0;
    }
    struct name_token t[NAME_TOKENS_MAX];
    size_t nt = 0;
    if (tokens_of(text, t, NAME_TOKENS_MAX, &nt))
        return 0; /* a name we cannot read is not indexed (it was checked on the way in) */
    /*
     * Two words of a field are also one written as one ("Fatima Zahra" is
     * found by "Fatimazahra"): the first pairs of words joined, as tokens too.
     */
    size_t words = nt;
    for (size_t i = 0; i + 1 < words && nt < NAME_TOKENS_MAX && i < 2; i++)
        if (!name_token_join(&t[i], &t[i + 1], &t[nt]))
            nt++;
    for (size_t i = 0; i < nt; i++) {
        if (!t[i].key[0] && !t[i].nsym)
            continue;
        int rc = vocab_of(ix, &t[i], &vids[*n]);
        if (rc)
            return rc;
        (*n)++;
    }
    /* Cached up to a bound, so that a flood of unique names cannot grow it without end. */
    if (ix->field_cache.n < 4000000 && len < 200 &&
        !grow((void **)&ix->cache, &ix->cap_cache, ix->ncache + 1 + *n, sizeof(*ix->cache))) {
        uint32_t at = (uint32_t)ix->ncache;
        ix->cache[at] = (uint32_t)*n;
        memcpy(ix->cache + at + 1, vids, *n * sizeof(*vids));
        if (!smap_put(&ix->field_cache, text, len, at))
            ix->ncache += 1 + *n;
    }
    return 0;
}

/* "1985-03-12" → 19850312, "1985-03" → 19850300, "1985" → 19850000; -1 if malformed. */
static int32_t date_code(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10)
        return -1;
    int32_t y = 0, m = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 4 || i == 7;
        if (dash != (s[i] == '-') || (!dash && (s[i] < '0' || s[i] > '9')))
            return -1;
    }
    y = (int32_t)strtol(s, NULL, 10);
    if (n >= 7)
        m = (int32_t)strtol(s + 5, NULL, 10);
    if (n == 10)
        d = (int32_t)strtol(s + 8, NULL, 10);
    if (y < 1800 || y > 2200 || m > 12 || d > 31 || (n >= 7 && m < 1) || (n == 10 && d < 1))
        return -1;
    return y * 10000 + m * 100 + d;
}

/*
 * A year of birth in one byte: 1801..2054 as 1..254, YEAR_OTHER for any
 * other year (the full date is then checked), 0 for none.
 */
#define YEAR_BASE  1800
#define YEAR_OTHER 255

static uint8_t year_code(int32_t y)
{
    if (!y)
        return 0;
    return y > YEAR_BASE && y < YEAR_BASE + YEAR_OTHER ? (uint8_t)(y - YEAR_BASE) : YEAR_OTHER;
}

/* A place's folded text: its tokens' folds joined by spaces. */
static void place_fold(const char *text, char *out, size_t outsz)
{
    struct name_token t[NAME_TOKENS_MAX];
    size_t n = 0, w = 0;
    out[0] = '\0';
    if (!text || name_tokenize(text, strlen(text), t, NAME_TOKENS_MAX, &n))
        return;
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(out + w, w < outsz ? outsz - w : 0, "%s%s", i ? " " : "", t[i].fold);
}

#define GROW_PERS(arr, cap) grow((void **)&ix->arr, &ix->cap, ix->npers + 1, sizeof(*ix->arr))

int rix_put(struct rix *ix, const struct rix_person *p)
{
    if (p->id <= 0 || p->id > (int64_t)UINT32_MAX * 4)
        return AM_EINVAL;
    rix_remove(ix, p->id);
    if (ix->npers >= UINT32_MAX - 1 || ix->npool > UINT32_MAX - 64 || GROW_PERS(ext, cap_ext) ||
        grow_big((void **)&ix->pers, &ix->cap_pers, ix->npers + 1, sizeof(*ix->pers)) ||
        grow_big((void **)&ix->year, &ix->cap_year, ix->npers + 1, sizeof(*ix->year)) ||
        grow_zeroed((void **)&ix->by_ext, &ix->cap_by_ext, (size_t)p->id + 1, sizeof(*ix->by_ext)))
        return AM_ENOMEM;
    uint32_t pid = (uint32_t)ix->npers;
    uint32_t toks[64];
    size_t nt = 0;
    const struct {
        const char *text;
        enum field f;
    } fields[] = {{p->given[0], F_GIVEN},   {p->given[1], F_GIVEN},   {p->family[0], F_FAMILY},
                  {p->family[1], F_FAMILY}, {p->father[0], F_FATHER}, {p->father[1], F_FATHER}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) + (size_t)p->naliases; i++) {
        const char *text = i < 6 ? fields[i].text : p->aliases[i - 6];
        enum field f = i < 6 ? fields[i].f : F_ALIAS;
        if (!text || !*text)
            continue;
        uint32_t v[NAME_TOKENS_MAX];
        size_t nv = 0;
        int rc = field_vids(ix, text, v, &nv);
        if (rc)
            return rc;
        for (size_t k = 0; k < nv && nt < 64; k++) {
            bool dup = false;
            for (size_t j = 0; j < nt; j++)
                dup = dup || (toks[j] & VID_MASK) == v[k];
            if (!dup)
                toks[nt++] = v[k] | (uint32_t)f << VID_BITS;
        }
    }
    if (grow_big((void **)&ix->pool, &ix->cap_pool, ix->npool + nt, sizeof(*ix->pool)))
        return AM_ENOMEM;
    for (size_t k = 0; k < nt; k++) {
        if (u32v_push(&ix->voc[toks[k] & VID_MASK].post, pid))
            return AM_ENOMEM;
        ix->pool[ix->npool + k] = toks[k];
    }
    int32_t dc = date_code(p->birth_date);
    uint32_t place = UINT32_MAX;
    char pf[NAME_FOLD_SZ * 2];
    place_fold(p->birth_place, pf, sizeof(pf));
    if (pf[0]) {
        place = smap_get(&ix->places, pf, strlen(pf));
        if (place == UINT32_MAX) {
            place = ix->places.n;
            if (smap_put(&ix->places, pf, strlen(pf), place))
                return AM_ENOMEM;
        }
    }
    if (dc > 0 && dc % 100) {
        char key[12];
        int kl = snprintf(key, sizeof(key), "%d", dc);
        struct u32v *l = list_at(ix, &ix->by_dob, key, (size_t)kl);
        if (!l || u32v_push(l, pid))
            return AM_ENOMEM;
    }
    ix->ext[pid] = p->id;
    ix->pers[pid] = (struct pers){(uint32_t)ix->npool, dc > 0 ? dc : 0, place, (uint8_t)nt, 0};
    ix->year[pid] = year_code(dc > 0 ? dc / 10000 : 0);
    ix->npool += nt;
    if ((size_t)p->id >= ix->cap_by_ext)
        return AM_ENOMEM;
    ix->by_ext[p->id] = pid + 1;
    ix->npers++;
    ix->live++;
    return 0;
}

void rix_remove(struct rix *ix, int64_t id)
{
    if (id <= 0 || (size_t)id >= ix->cap_by_ext || !ix->by_ext[id])
        return;
    uint32_t pid = ix->by_ext[id] - 1;
    ix->pers[pid].dead = 1;
    ix->by_ext[id] = 0;
    ix->live--;
}

void rix_stats_get(struct rix *ix, struct rix_stats *out)
{
    pthread_rwlock_rdlock(&ix->lock);
    out->persons = ix->live;
    out->vocabulary = ix->nvoc;
    out->postings = ix->npool;
    pthread_rwlock_unlock(&ix->lock);
}

/* ------------------------------------------------------------- search */

#define CAND_MAX 256 /* spellings considered per query token */
#define QSLOTS   (4 * CAND_MAX)

struct cand {
    uint32_t vid;
    float sim;
};

struct qtok {
    struct name_token tok;
    double w;
    struct cand c[CAND_MAX];
    size_t nc;
    uint64_t postings;
    /* vid → sim, open addressing over the candidates. */
    uint32_t slot[QSLOTS];
};

static float qtok_sim(const struct qtok *q, uint32_t vid)
{
    for (size_t i = (vid * 2654435761u) & (QSLOTS - 1);; i = (i + 1) & (QSLOTS - 1)) {
        uint32_t s = q->slot[i];
        if (!s)
            return 0.0f;
        if (q->c[s - 1].vid == vid)
            return q->c[s - 1].sim;
    }
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->sim < y->sim ? 1 : x->sim > y->sim ? -1 : (x->vid > y->vid) - (x->vid < y->vid);
}

/* The vocabulary entries within reach of a query token, scored, best first. */
static void find_cands(const struct rix *ix, struct qtok *q)
{
    q->nc = 0;
    q->postings = 0;
    memset(q->slot, 0, sizeof(q->slot));
    size_t klen = strlen(q->tok.key);
    char var[NAME_KEY_SZ];
    for (size_t d = 0; d <= klen && klen > 0; d++) {
        size_t m = 0;
        for (size_t i = 0; i < klen; i++)
            if (i != d)
                var[m++] = q->tok.key[i];
        if (d < klen && m == 0)
            continue;
        uint32_t li = smap_get(&ix->by_variant, var, m);
        if (li == UINT32_MAX)
            continue;
        const struct u32v *l = &ix->lists[li];
        for (uint32_t k = 0; k < l->n && q->nc < CAND_MAX; k++) {
            uint32_t vid = l->v[k];
            if (qtok_sim(q, vid) > 0.0f)
                continue;
            double s = name_token_sim(&q->tok, &ix->voc[vid].tok);
            if (s < NAME_SIM_MIN)
                continue;
            q->c[q->nc] = (struct cand){vid, (float)s};
            size_t i = (vid * 2654435761u) & (QSLOTS - 1);
            while (q->slot[i])
                i = (i + 1) & (QSLOTS - 1);
            q->slot[i] = (uint32_t)++q->nc;
        }
    }
    qsort(q->c, q->nc, sizeof(q->c[0]), cand_cmp);
    memset(q->slot, 0, sizeof(q->slot));
    for (size_t k = 0; k < q->nc; k++) {
        size_t i = (q->c[k].vid * 2654435761u) & (QSLOTS - 1);
        while (q->slot[i])
            i = (i + 1) & (QSLOTS - 1);
        q->slot[i] = (uint32_t)k + 1;
        q->postings += ix->voc[q->c[k].vid].post.n;
    }
}

struct heap {
    struct rix_hit *h; /* id holds the internal id during the search */
    size_t n, max;
};

static void heap_push(struct heap *hp, uint32_t pid, double score)
{
    struct rix_hit *h = hp->h;
    size_t i;
    if (hp->n < hp->max) {
        i = hp->n++;
    } else if (score > h[0].score) {
        /* Replace the worst (the root) and sift down. */
        i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            double ms = score;
            if (l < hp->n && h[l].score < ms)
                m = l, ms = h[l].score;
            if (r < hp->n && h[r].score < ms)
                m = r;
            if (m == i)
                break;
            h[i] = h[m];
            i = m;
        }
        h[i] = (struct rix_hit){pid, score};
        return;
    } else {
        return;
    }
    while (i > 0 && h[(i - 1) / 2].score > score) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = (struct rix_hit){pid, score};
}

struct search {
    const struct rix *ix;
    struct qtok *q;
    size_t nq;
    double wsum;
    int32_t dob;                   /* filter code, 0 none */
    uint8_t year;                  /* the filter's year_code() when it is one year, 0 none */
    uint8_t *places;               /* allowed places (bitmap over place entries), NULL none */
    uint8_t *seen;                 /* bitmap over internal ids */
    uint8_t *mark;                 /* bitmap over internal ids: carriers of one query token */
    const struct qtok *marked_tok; /* that token */
    size_t marked;                 /* its first candidates whose carriers are in `mark` */
    /*
     * Every candidate spelling of any query token, with its similarity to
     * each query token (nq floats, 0 where it is not a candidate): a person's
     * token is looked up once, and most are not candidates at all (vmark).
     */
    uint8_t *vmark;  /* bitmap over the vocabulary */
    uint32_t *vslot; /* entry + 1, open addressing */
    uint32_t vmask;
    uint32_t *vvid;
    float *vsim;
    uint32_t nv;
    struct heap hp;
};

static uint32_t vhash(uint32_t vid)
{
    return (vid * 0x9E3779B1u) ^ (vid >> 15);
}

/* The entry of candidate spelling `vid` (it is one: vmark says so). */
static uint32_t vcand(const struct search *s, uint32_t vid)
{
    for (uint32_t i = vhash(vid) & s->vmask;; i = (i + 1) & s->vmask)
        if (s->vvid[s->vslot[i] - 1] == vid)
            return s->vslot[i] - 1;
}

/* Builds the table of candidate spellings from the query tokens' candidates. */
static int vtable(struct search *s)
{
    size_t total = 0;
    for (size_t j = 0; j < s->nq; j++)
        total += s->q[j].nc;
    uint32_t cap = 64;
    while (cap < total * 3)
        cap *= 2;
    s->vmask = cap - 1;
    s->vmark = calloc(s->ix->nvoc / 8 + 1, 1);
    s->vslot = calloc(cap, sizeof(*s->vslot));
    s->vvid = malloc((total + 1) * sizeof(*s->vvid));
    s->vsim = calloc((total + 1) * s->nq, sizeof(*s->vsim));
    if (!s->vmark || !s->vslot || !s->vvid || !s->vsim)
        return AM_ENOMEM;
    for (size_t j = 0; j < s->nq; j++)
        for (size_t k = 0; k < s->q[j].nc; k++) {
            uint32_t vid = s->q[j].c[k].vid, i = vhash(vid) & s->vmask;
            while (s->vslot[i] && s->vvid[s->vslot[i] - 1] != vid)
                i = (i + 1) & s->vmask;
            if (!s->vslot[i]) {
                s->vvid[s->nv] = vid;
                s->vslot[i] = ++s->nv;
                s->vmark[vid >> 3] |= (uint8_t)(1u << (vid & 7));
            }
            s->vsim[(size_t)(s->vslot[i] - 1) * s->nq + j] = s->q[j].c[k].sim;
        }
    return 0;
}

static bool dob_ok(int32_t want, int32_t have)
{
    if (!want)
        return true;
    if (have / 10000 != want / 10000)
        return false;
    if (want % 10000 / 100 && have % 10000 / 100 != want % 10000 / 100)
        return false;
    return !(want % 100) || have % 100 == want % 100;
}

static void visit(struct search *s, uint32_t pid)
{
    const struct rix *ix = s->ix;
    if (s->seen[pid >> 3] & (1u << (pid & 7)))
        return;
    s->seen[pid >> 3] |= (uint8_t)(1u << (pid & 7));
    if (s->year && ix->year[pid] != s->year && ix->year[pid] != YEAR_OTHER)
        return;
    const struct pers *p = &ix->pers[pid];
    if (p->dead || !dob_ok(s->dob, p->dob))
        return;
    if (s->places &&
        (p->place == UINT32_MAX || !(s->places[p->place >> 3] & (1u << (p->place & 7)))))
        return;
    const uint32_t *t = ix->pool + p->off;
    double best[NAME_TOKENS_MAX] = {0}, sum = 0;
    for (uint8_t k = 0; k < p->n; k++) {
        uint32_t vid = t[k] & VID_MASK;
        if (!(s->vmark[vid >> 3] & (1u << (vid & 7))))
            continue;
        const float *sim = s->vsim + (size_t)vcand(s, vid) * s->nq;
        for (size_t j = 0; j < s->nq; j++) {
            double v = sim[j] * FIELD_WEIGHT[t[k] >> VID_BITS];
            best[j] = v > best[j] ? v : best[j];
        }
    }
    for (size_t j = 0; j < s->nq; j++)
        sum += s->q[j].w * best[j];
    heap_push(&s->hp, pid, sum / s->wsum);
}

/*
 * Whether the best so far are complete and none of them can be displaced by
 * a person scoring at most `bound` (scores are sums of floats: a bound equal
 * to the worst kept score up to rounding is not better).
 */
static bool beaten(const struct search *s, double bound)
{
    return s->hp.n == s->hp.max && s->hp.h[0].score >= bound - 1e-9;
}

/* Whether visiting `pid` will read its record: not seen yet, and born in the year asked. */
static bool to_score(const struct search *s, uint32_t pid)
{
    if (s->seen[pid >> 3] & (1u << (pid & 7)))
        return false;
    uint8_t y = s->ix->year[pid];
    return !s->year || y == s->year || y == YEAR_OTHER;
}

/*
 * How far ahead of the person scored the next ones are asked of memory:
 * their records, then (once those are in) their tokens. Meeting a person is
 * two cache misses; asked early, many are in flight at once.
 */
#define AHEAD_PERS 16
#define AHEAD_TOKS 8

/*
 * Visits the persons of a sorted list, until the best so far cannot be
 * displaced by anyone on it (`bound`: the most any of them can score).
 */
static void visit_list(struct search *s, const uint32_t *v, uint32_t n, double bound)
{
    const struct rix *ix = s->ix;
    for (uint32_t i = 0; i < n; i++) {
        if (i + AHEAD_PERS < n && to_score(s, v[i + AHEAD_PERS]))
            __builtin_prefetch(&ix->pers[v[i + AHEAD_PERS]]);
        if (i + AHEAD_TOKS < n && to_score(s, v[i + AHEAD_TOKS]))
            __builtin_prefetch(ix->pool + ix->pers[v[i + AHEAD_TOKS]].off);
        visit(s, v[i]);
        if ((i & 63) == 63 && beaten(s, bound))
            return;
    }
}

static int qtok_size_cmp(const void *a, const void *b)
{
    const struct qtok *const *x = a, *const *y = b;
    return ((*x)->postings > (*y)->postings) - ((*x)->postings < (*y)->postings);
}

static int hit_cmp(const void *a, const void *b)
{
    const struct rix_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Persons met by a sweep of lists, visited (visit_list) a few hundred at a time. */
struct met {
    uint32_t v[256];
    uint32_t n;
};

/* Adds a person met; false once nobody scoring at most `bound` can enter the best. */
static bool met_add(struct search *s, struct met *m, uint32_t pid, double bound)
{
    m->v[m->n++] = pid;
    if (m->n < sizeof(m->v) / sizeof(m->v[0]))
        return true;
    visit_list(s, m->v, m->n, bound);
    m->n = 0;
    return !beaten(s, bound);
}

/* Visits the persons on both lists (sorted), galloping through the longer one. */
static void visit_both(struct search *s, const struct u32v *x, const struct u32v *y, double bound)
{
    if (x->n > y->n) {
        const struct u32v *t = x;
        x = y;
        y = t;
    }
    uint32_t j = 0;
    struct met m = {.n = 0};
    for (uint32_t i = 0; i < x->n && j < y->n; i++) {
        uint32_t v = x->v[i], lo = j, hi = j, step = 1;
        while (hi < y->n && y->v[hi] < v) {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        if (hi > y->n)
            hi = y->n;
        while (lo < hi) { /* the first at or after v in [lo, hi) */
            uint32_t mid = lo + (hi - lo) / 2;
            if (y->v[mid] < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        j = lo;
        if (j < y->n && y->v[j] == v && !met_add(s, &m, v, bound))
            return;
    }
    visit_list(s, m.v, m.n, bound);
}

#define PAIR_CANDS 4 /* spellings of each of the two rarest tokens met first */

/* Marks the carriers of a token's candidates up to the n-th (forgetting another token's). */
static void mark_upto(struct search *s, const struct qtok *b, size_t n)
{
    if (s->marked_tok != b) {
        if (s->marked_tok)
            memset(s->mark, 0, s->ix->npers / 8 + 1);
        s->marked_tok = b;
        s->marked = 0;
    }
    for (; s->marked < n && s->marked < b->nc; s->marked++) {
        const struct u32v *l = &s->ix->voc[b->c[s->marked].vid].post;
        for (uint32_t k = 0; k < l->n; k++)
            s->mark[l->v[k] >> 3] |= (uint8_t)(1u << (l->v[k] & 7));
    }
}

/* visit_list() of the persons of a list who are marked. */
static void visit_marked(struct search *s, const struct u32v *l, double bound)
{
    struct met m = {.n = 0};
    for (uint32_t k = 0; k < l->n; k++) {
        uint32_t pid = l->v[k];
        if ((s->mark[pid >> 3] & (1u << (pid & 7))) && !met_add(s, &m, pid, bound))
            return;
    }
    visit_list(s, m.v, m.n, bound);
}

/*
 * Visits the persons who carry one of the best spellings of `a` and one of
 * the best of `b`, pairs of spellings in decreasing order of the most their
 * carriers can score (`rest`: what the other tokens can add, weighted),
 * until nobody left can enter the best. By galloping intersections of each
 * pair of lists where the lists of `a` are short; else by marking the
 * carriers of `b` in a bitmap and reading the lists of `a` once each (two
 * passes over memory in order, where 16 intersections of long lists would
 * cost more).
 */
static void pair_phase(struct search *s, const struct qtok *a, const struct qtok *b, double rest)
{
    const struct vocab *voc = s->ix->voc;
    size_t na = a->nc < PAIR_CANDS ? a->nc : PAIR_CANDS;
    size_t nb = b->nc < PAIR_CANDS ? b->nc : PAIR_CANDS;
    struct pair {
        double bound;
        uint32_t i, j;
    } pairs[PAIR_CANDS * PAIR_CANDS];
    size_t np = 0;
    double gallop = 0, sweep = 0;
    for (size_t i = 0; i < na; i++) {
        double x = voc[a->c[i].vid].post.n + 1;
        sweep += x;
        for (size_t j = 0; j < nb; j++) {
            double y = voc[b->c[j].vid].post.n + 1, lo = x < y ? x : y, hi = x < y ? y : x;
            gallop += lo * (2 + 2 * log2(hi / lo));
            double bound = (a->w * a->c[i].sim + b->w * b->c[j].sim + rest) / s->wsum;
            size_t k = np++;
            for (; k > 0 && pairs[k - 1].bound < bound; k--)
                pairs[k] = pairs[k - 1];
            pairs[k] = (struct pair){bound, (uint32_t)i, (uint32_t)j};
        }
    }
    for (size_t j = 0; j < nb; j++)
        sweep += voc[b->c[j].vid].post.n + 1;
    if (gallop <= 2 * sweep) {
        for (size_t k = 0; k < np && !beaten(s, pairs[k].bound); k++)
            visit_both(s, &voc[a->c[pairs[k].i].vid].post, &voc[b->c[pairs[k].j].vid].post,
                       pairs[k].bound);
        return;
    }
    mark_upto(s, b, nb);
    for (size_t i = 0; i < na; i++) {
        double bound = (a->w * a->c[i].sim + b->w * b->c[0].sim + rest) / s->wsum;
        if (beaten(s, bound))
            break;
        visit_marked(s, &voc[a->c[i].vid].post, bound);
    }
}

/*
 * Once the best so far beat anyone who lacks some token walked later, only
 * the persons who carry it can enter: its carriers are marked (one pass over
 * its lists, in order) and the others are passed over without reading their
 * records. The cheapest such token to mark, if marking costs less than
 * visiting what is left of the d-th token's lists from its k-th; or NULL.
 */
static const struct qtok *needed(struct search *s, struct qtok *const *order, size_t nd, size_t d,
                                 size_t k)
{
    const struct vocab *voc = s->ix->voc;
    double most = 0; /* what a person not yet seen can score, the d-th token and those after */
    for (size_t e = d; e < nd; e++)
        most += order[e]->w * order[e]->c[0].sim;
    const struct qtok *best = NULL;
    uint64_t best_cost = 0, left = 0;
    for (size_t e = d + 1; e < nd; e++) {
        const struct qtok *t = order[e];
        if (!beaten(s, (most - t->w * t->c[0].sim) / s->wsum))
            continue;
        uint64_t cost = 0;
        for (size_t j = s->marked_tok == t ? s->marked : 0; j < t->nc; j++)
            cost += voc[t->c[j].vid].post.n;
        if (!best || cost < best_cost) {
            best = t;
            best_cost = cost;
        }
    }
    if (!best)
        return NULL;
    for (size_t j = k; j < order[d]->nc; j++)
        left += voc[order[d]->c[j].vid].post.n;
    if (best_cost > 16 * left)
        return NULL;
    mark_upto(s, best, best->nc);
    return best;
}

/* The walk: drivers by postings, candidates best first, until nobody unseen can do better. */
static void walk(struct search *s)
{
    struct qtok *order[NAME_TOKENS_MAX];
    size_t nd = 0;
    for (size_t j = 0; j < s->nq; j++)
        if (s->q[j].nc)
            order[nd++] = &s->q[j];
    qsort(order, nd, sizeof(order[0]), qtok_size_cmp);
    /*
     * First the persons who carry a best spelling of both rarest tokens:
     * an intersection of sorted lists, cheap where visiting every posting
     * of the rarer token is not; they fill the best so far with high
     * scores, so the walk below mostly stops at its first bound.
     */
    /* rest[d]: the most the tokens after the d-th can add (each its best candidate's similarity).
     */
    double rest[NAME_TOKENS_MAX + 1] = {0};
    for (size_t d = nd; d-- > 0;)
        rest[d] = rest[d + 1] + (d + 1 < nd ? order[d + 1]->w * order[d + 1]->c[0].sim : 0);
    if (nd >= 2)
        pair_phase(s, order[0], order[1], rest[1]);
    /*
     * After the pair phase, a person not yet seen who carries one of the
     * first spellings of the driver carries none of the first of the second
     * token: the second adds at most its next candidate's similarity.
     */
    double after_pairs = 0;
    if (nd >= 2)
        after_pairs = rest[0] - order[1]->w * order[1]->c[0].sim +
                      (order[1]->nc > PAIR_CANDS ? order[1]->w * order[1]->c[PAIR_CANDS].sim : 0);
    for (size_t d = 0; d < nd; d++) {
        struct qtok *q = order[d];
        const struct qtok *need = NULL;
        for (size_t k = 0; k < q->nc; k++) {
            /*
             * Bounds fall with k, except that the first few of the driver's
             * are tighter (after_pairs): one of them beaten is passed over;
             * any other beaten ends this token.
             */
            bool paired = d == 0 && nd >= 2 && k < PAIR_CANDS;
            double bound = (q->w * q->c[k].sim + (paired ? after_pairs : rest[d])) / s->wsum;
            if (beaten(s, bound)) {
                if (paired)
                    continue;
                break;
            }
            const struct u32v *p = &s->ix->voc[q->c[k].vid].post;
            if (!need)
                need = needed(s, order, nd, d, k);
            if (need)
                visit_marked(s, p, bound);
            else
                visit_list(s, p->v, p->n, bound);
        }
        if (beaten(s, rest[d] / s->wsum))
            break;
    }
}

/* Rescores the best with name_match() over the person's tokens. */
static void rescore(const struct search *s, struct rix_hit *h, size_t n)
{
    struct name_token qt[NAME_TOKENS_MAX], pt[64];
    for (size_t j = 0; j < s->nq; j++)
        qt[j] = s->q[j].tok;
    for (size_t i = 0; i < n; i++) {
        uint32_t pid = (uint32_t)h[i].id;
        const uint32_t *t = s->ix->pool + s->ix->pers[pid].off;
        size_t np = s->ix->pers[pid].n;
        for (size_t k = 0; k < np; k++)
            pt[k] = s->ix->voc[t[k] & VID_MASK].tok;
        double m = name_match(qt, s->nq, pt, np);
        /* The cheap score weighs fields (a father's name counts less): keep the lower. */
        h[i].score = m < h[i].score ? m : h[i].score;
    }
}

int rix_search(struct rix *ix, const struct rix_query *q, double min_score, struct rix_hit *out,
               size_t *n)
{
    *n = 0;
    if (!q->name || q->limit < 1 || q->limit > RIX_LIMIT_MAX)
        return AM_EINVAL;
    int32_t dob = date_code(q->birth_date);
    if (dob < 0)
        return AM_EINVAL;
    struct name_token toks[NAME_TOKENS_MAX];
    size_t nt = 0;
    int rc = tokens_of(q->name, toks, NAME_TOKENS_MAX, &nt);
    if (rc)
        return rc;
    if (!nt)
        return AM_EINVAL;
    struct qtok *qt = calloc(nt, sizeof(*qt));
    struct rix_hit *heap = calloc(3 * RIX_LIMIT_MAX, sizeof(*heap));
    if (!qt || !heap) {
        free(qt);
        free(heap);
        return AM_ENOMEM;
    }
    pthread_rwlock_rdlock(&ix->lock);
    struct search s = {.ix = ix, .q = qt, .nq = nt, .dob = dob, .hp = {heap, 0, 0}};
    s.hp.max = q->limit * 2; /* the best twice over, rescored with name_match() */
    for (size_t j = 0; j < nt; j++) {
        qt[j].tok = toks[j];
        qt[j].w = toks[j].particle ? 0.3 : 1.0;
        s.wsum += qt[j].w;
        find_cands(ix, &qt[j]);
    }
    s.seen = calloc(2 * (ix->npers / 8 + 1), 1);
    s.mark = s.seen ? s.seen + ix->npers / 8 + 1 : NULL;
    s.year = dob > 0 ? year_code(dob / 10000) : 0;
    s.year = s.year == YEAR_OTHER ? 0 : s.year;
    rc = s.seen ? vtable(&s) : AM_ENOMEM;
    if (!rc && q->birth_place && *q->birth_place) {
        /* The places whose names match the filter's, in either script. */
        struct name_token want[NAME_TOKENS_MAX], have[NAME_TOKENS_MAX];
        size_t nw = 0;
        rc = name_tokenize(q->birth_place, strlen(q->birth_place), want, NAME_TOKENS_MAX, &nw);
        s.places = rc ? NULL : calloc(ix->places.n / 8 + 1, 1);
        if (!rc && !s.places)
            rc = AM_ENOMEM;
        for (uint32_t e = 0; !rc && e < ix->places.n; e++) {
            const char *pt = ix->places.chars + ix->places.koff[e];
            size_t nh = 0;
            if (!name_tokenize(pt, strlen(pt), have, NAME_TOKENS_MAX, &nh) &&
                name_match(want, nw, have, nh) >= 0.85)
                s.places[ix->places.val[e] >> 3] |= (uint8_t)(1u << (ix->places.val[e] & 7));
        }
    }
    if (!rc) {
        char key[12];
        int kl = snprintf(key, sizeof(key), "%d", dob);
        uint32_t li = dob % 100 ? smap_get(&ix->by_dob, key, (size_t)kl) : UINT32_MAX;
        if (q->exhaustive) {
            for (uint32_t pid = 0; pid < ix->npers; pid++)
                visit(&s, pid);
        } else if (li != UINT32_MAX && ix->lists[li].n < 200000) {
            /* A full date of birth narrows most: its persons, every one scored. */
            visit_list(&s, ix->lists[li].v, ix->lists[li].n, 2.0);
        } else if (!(dob % 100 && dob > 0 && li == UINT32_MAX)) {
            walk(&s);
        }
        if (!q->raw)
            rescore(&s, s.hp.h, s.hp.n);
        qsort(s.hp.h, s.hp.n, sizeof(s.hp.h[0]), hit_cmp);
        for (size_t i = 0; i < s.hp.n && *n < q->limit; i++) {
            if (s.hp.h[i].score + 1e-9 < min_score)
                continue;
            out[*n].id = ix->ext[s.hp.h[i].id];
            out[(*n)++].score = s.hp.h[i].score;
        }
    }
    pthread_rwlock_unlock(&ix->lock);
    free(s.seen);
    free(s.places);
    free(s.vmark);
    free(s.vslot);
    free(s.vvid);
    free(s.vsim);
    free(qt);
    free(heap);
    return rc;
}
