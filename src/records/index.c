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
 * by anyone not yet met. A full date of birth drives instead when given.
 * The best are then scored again with name_match() (pairing, particles).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
    int64_t *ext;    /* the store's id */
    int32_t *dob;    /* yyyymmdd, 0 for unknown parts */
    uint32_t *place; /* entry of `places`, or UINT32_MAX */
    size_t *tok_off; /* first token in `pool` */
    uint8_t *tok_n;  /* tokens (entry | field << VID_BITS) */
    uint8_t *dead;   /* replaced or removed */
    size_t npers, cap_pers, cap_ext, cap_dob, cap_place, cap_off, cap_n, cap_dead;
    uint32_t *pool;
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
    free(ix->dob);
    free(ix->place);
    free(ix->tok_off);
    free(ix->tok_n);
    free(ix->dead);
    free(ix->pool);
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
    if (ix->npers >= UINT32_MAX - 1 || GROW_PERS(ext, cap_ext) || GROW_PERS(dob, cap_dob) ||
        GROW_PERS(place, cap_place) || GROW_PERS(tok_off, cap_off) || GROW_PERS(tok_n, cap_n) ||
        GROW_PERS(dead, cap_dead) ||
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
    if (grow((void **)&ix->pool, &ix->cap_pool, ix->npool + nt, sizeof(*ix->pool)))
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
    ix->dob[pid] = dc > 0 ? dc : 0;
    ix->place[pid] = place;
    ix->tok_off[pid] = ix->npool;
    ix->tok_n[pid] = (uint8_t)nt;
    ix->dead[pid] = 0;
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
    ix->dead[pid] = 1;
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
    int32_t dob;     /* filter code, 0 none */
    uint8_t *places; /* allowed places (bitmap over place entries), NULL none */
    uint8_t *seen;   /* bitmap over internal ids */
    struct heap hp;
};

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
    if (ix->dead[pid] || !dob_ok(s->dob, ix->dob[pid]))
        return;
    if (s->places && (ix->place[pid] == UINT32_MAX ||
                      !(s->places[ix->place[pid] >> 3] & (1u << (ix->place[pid] & 7)))))
        return;
    const uint32_t *t = ix->pool + ix->tok_off[pid];
    double sum = 0;
    for (size_t j = 0; j < s->nq; j++) {
        double best = 0;
        for (uint8_t k = 0; k < ix->tok_n[pid]; k++) {
            double v = qtok_sim(&s->q[j], t[k] & VID_MASK) * FIELD_WEIGHT[t[k] >> VID_BITS];
            best = v > best ? v : best;
        }
        sum += s->q[j].w * best;
    }
    heap_push(&s->hp, pid, sum / s->wsum);
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

/* Visits the persons on both lists (sorted), galloping through the longer one. */
static void visit_both(struct search *s, const struct u32v *x, const struct u32v *y)
{
    if (x->n > y->n) {
        const struct u32v *t = x;
        x = y;
        y = t;
    }
    uint32_t j = 0;
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
        if (j < y->n && y->v[j] == v)
            visit(s, v);
    }
}

#define PAIR_CANDS 4 /* spellings of each of the two rarest tokens met first */

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
    for (size_t a = 0; nd >= 2 && a < order[0]->nc && a < PAIR_CANDS; a++)
        for (size_t b = 0; b < order[1]->nc && b < PAIR_CANDS; b++)
            visit_both(s, &s->ix->voc[order[0]->c[a].vid].post,
                       &s->ix->voc[order[1]->c[b].vid].post);
    /*
     * The most the tokens not yet walked can add to a person not yet seen:
     * each its best candidate's similarity (a token with none adds nothing).
     * The tighter this bound, the sooner the walk stops.
     */
    double rest = 0;
    for (size_t d = 0; d < nd; d++)
        rest += order[d]->w * order[d]->c[0].sim;
    for (size_t d = 0; d < nd; d++) {
        struct qtok *q = order[d];
        rest -= q->w * q->c[0].sim;
        for (size_t k = 0; k < q->nc; k++) {
            double bound = (q->w * q->c[k].sim + rest) / s->wsum;
            if (s->hp.n == s->hp.max && s->hp.h[0].score >= bound)
                break;
            const struct u32v *p = &s->ix->voc[q->c[k].vid].post;
            for (uint32_t i = 0; i < p->n; i++)
                visit(s, p->v[i]);
        }
        if (s->hp.n == s->hp.max && s->hp.h[0].score >= rest / s->wsum)
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
        const uint32_t *t = s->ix->pool + s->ix->tok_off[pid];
        size_t np = s->ix->tok_n[pid];
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
    struct search s = {ix, qt, nt, 0, dob, NULL, NULL, {heap, 0, 0}};
    s.hp.max = q->limit * 2; /* the best twice over, rescored with name_match() */
    for (size_t j = 0; j < nt; j++) {
        qt[j].tok = toks[j];
        qt[j].w = toks[j].particle ? 0.3 : 1.0;
        s.wsum += qt[j].w;
        find_cands(ix, &qt[j]);
    }
    s.seen = calloc(ix->npers / 8 + 1, 1);
    rc = s.seen ? 0 : AM_ENOMEM;
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
        if (li != UINT32_MAX && ix->lists[li].n < 200000) {
            /* A full date of birth narrows most: its persons, every one scored. */
            for (uint32_t i = 0; i < ix->lists[li].n; i++)
                visit(&s, ix->lists[li].v[i]);
        } else if (!(dob % 100 && dob > 0 && li == UINT32_MAX)) {
            walk(&s);
        }
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
    free(qt);
    free(heap);
    return rc;
}
