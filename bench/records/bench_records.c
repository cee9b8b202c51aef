/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bench_records.c - the records benchmark in process (docs/BENCHMARKS.md):
 * the name index and the hotlist of src/records, timed one query at a time
 * on a store that `amane records import` filled, and the query sets that the
 * PostgreSQL peer (pgpeer_records.c) and the HTTP client (httpload.c) then
 * run unchanged, so that every side answers the same questions.
 *
 *   bench_records plant --pairs TSV --persons CSV --out DIR [--seed S]
 *       The spelling table (tests/unit/data/name_pairs.tsv: two spellings
 *       of one name a line) as persons to plant: for each pair and each
 *       direction, a person whose given name is one spelling (in its script
 *       only), with a family name and a date of birth taken from a generated
 *       person (so as common as real ones) and a CIN of its own (ZZ...).
 *       Writes DIR/planted.csv (to import like the generated persons) and
 *       DIR/spelling.tsv: the other spelling with the family name in the
 *       same script, and the CIN the search should find.
 *
 *   bench_records run --db DB --out DIR [--pairs TSV] [--names N] [--plates N]
 *                     [--seed S] [--warmup N]
 *       Opens the store, times records_new() (the hotlist into memory) and
 *       records_start() (every person into the name index), with the
 *       process's resident memory before and after; draws the name queries
 *       from the stored persons (Latin, Arabic, another Latin spelling, one
 *       typo in either script) and the plate checks from the hotlist and the
 *       vehicles (as written, as displayed, as the key, spaced, misread), and
 *       writes them to DIR/names.tsv and DIR/plates.tsv; then times each
 *       query alone: rix_search() as the API calls it (limit 10, score at
 *       least 0.5) and plate_variants() + records_hot_match() as the hotlist
 *       check does. Recall@10 is whether the person the query was made from
 *       is among the first 10. One not there is "outranked" when the 10th
 *       scores at least its own score (the same search filtered by its date
 *       of birth: namesakes, or names nearer to what was typed), else
 *       "missed"; an untimed pass
 *       with limit 100 gives recall@100. Prints one JSON line.
 *
 *   bench_records pgprep --db DB --out DIR
 *       The vehicles and the hotlist as the PostgreSQL peer loads them, with
 *       the plate key amane computed (PostgreSQL has no parser of Moroccan
 *       plates; an application in front of it would compute the key too):
 *       DIR/vehicles_pg.csv and DIR/hotlist_pg.csv.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/bench.h"
#include "../common/samples.h"
#include "recall.h"

#include "records/format.h"
#include "records/plate.h"
#include "records/records_int.h"

#define VARIANTS_MAX 64  /* readings of a plate tried, as api.c does */
#define SEARCH_MIN   0.5 /* the lowest score the API returns */

/* ------------------------------------------------------------- small helpers */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic for a seed, good enough to draw queries. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void rng_seed(uint64_t seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < 8; i++)
        rng();
}

static size_t pick(size_t n)
{
    return n ? (size_t)(rng() % n) : 0;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die("out of memory");
    return p;
}

/* Resident and peak resident memory of this process, in MiB (/proc/self/status). */
static void rss_mb(double *rss, double *hwm)
{
    *rss = *hwm = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *rss = kb / 1024.0;
        else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *hwm = kb / 1024.0;
    }
    fclose(f);
}

/* CPU time of the calling thread in microseconds: a query's own work, without waits. */
static int64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double round3(double v)
{
    return round(v * 1000) / 1000;
}

/* Whether a UTF-8 string holds Arabic letters (U+0600..U+06FF or the presentation forms). */
static bool is_arabic(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0xD8 && *p <= 0xDB)
            return true;
        /* U+FB50..U+FDFF and U+FE70..U+FEFF: EF AD..B7 and EF B9..BB. */
        if (p[0] == 0xEF && p[1] &&
            ((p[1] >= 0xAD && p[1] <= 0xB7) || (p[1] >= 0xB9 && p[1] <= 0xBB)))
            return true;
    }
    return false;
}

/* Trims blanks at both ends in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A tab-separated line cut into at most `max` fields (in place); their count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

/* ------------------------------------------------------------- the spelling table */

struct pair {
    char *a, *b;
};

static struct pair *pairs;
static size_t npairs;

/* Reads "a<TAB>b" lines; '#' comments and blank lines are skipped. */
static void pairs_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, have = 0;
    while (getline(&line, &cap, f) > 0) {
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *fld[4];
        if (split_tabs(l, fld, 4) < 2)
            continue;
        char *a = trim(fld[0]), *b = trim(fld[1]);
        if (!*a || !*b || strlen(a) >= REC_NAME_MAX || strlen(b) >= REC_NAME_MAX)
            continue;
        if (npairs == have) {
            have = have ? have * 2 : 256;
            pairs = realloc(pairs, have * sizeof(*pairs));
            if (!pairs)
                die("out of memory");
        }
        pairs[npairs].a = xstrdup(a);
        pairs[npairs].b = xstrdup(b);
        npairs++;
    }
    free(line);
    fclose(f);
    if (!npairs)
        die("no pairs in '%s'", path);
}

/* Another Latin spelling of a given name, from the table: "" if it has none. */
static const char *alt_latin(const char *lat, const char *ar)
{
    const char *cand[64];
    size_t n = 0;
    for (size_t i = 0; i < npairs && n < 64; i++) {
        const char *x = pairs[i].a, *y = pairs[i].b;
        for (int k = 0; k < 2; k++) {
            const char *t = k ? y : x, *o = k ? x : y;
            if (is_arabic(o))
                continue;
            /* Latin-Latin: the same name; Arabic-Latin: a spelling of the same Arabic name. */
            if ((!is_arabic(t) && strcasecmp(t, lat) == 0) || (ar[0] && strcmp(t, ar) == 0))
                if (strcasecmp(o, lat) != 0)
                    cand[n++] = o;
        }
    }
    return n ? cand[pick(n)] : "";
}

/* ------------------------------------------------------------- typos */

/* Decodes UTF-8 into code points (at most max); their count, or -1 if invalid. */
static int utf8_decode(const char *s, uint32_t *cp, int max)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < max) {
        uint32_t c;
        int len;
        if (*p < 0x80) {
            c = *p;
            len = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            len = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            len = 3;
        } else {
            c = *p & 0x07;
            len = 4;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            c = (c << 6) | (p[i] & 0x3F);
        }
        cp[n++] = c;
        p += len;
    }
    return n;
}

static void utf8_encode(const uint32_t *cp, int n, char *out, size_t outsz)
{
    size_t k = 0;
    for (int i = 0; i < n && k + 5 < outsz; i++) {
        uint32_t c = cp[i];
        if (c < 0x80) {
            out[k++] = (char)c;
        } else if (c < 0x800) {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[k++] = (char)(0xE0 | (c >> 12));
            out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[k++] = (char)(0xF0 | (c >> 18));
            out[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[k] = '\0';
}

/*
 * One typing error in `name` (any script): a letter replaced by another of
 * its script, dropped, doubled-in by another, or two neighbours swapped, at
 * a random place among the letters of one word. False if the name is too
 * short to take one (a word of 3 letters at least is needed).
 */
static bool typo(const char *name, char *out, size_t outsz)
{
    static const uint32_t ar_letters[] = {0x627, 0x628, 0x62A, 0x62B, 0x62C, 0x62D, 0x62E,
                                          0x62F, 0x630, 0x631, 0x632, 0x633, 0x634, 0x635,
                                          0x636, 0x637, 0x638, 0x639, 0x63A, 0x641, 0x642,
                                          0x643, 0x644, 0x645, 0x646, 0x647, 0x648, 0x64A};
    uint32_t cp[256];
    int n = utf8_decode(name, cp, 250);
    if (n < 3)
        return false;
    /* Letters that sit in a word of at least 3 letters. */
    int cand[256], nc = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && cp[j] != ' ' && cp[j] != '-')
            j++;
        if (j - i >= 3)
            for (int k = i; k < j; k++)
                cand[nc++] = k;
        i = j + 1;
    }
    if (!nc)
        return false;
    int at = cand[pick((size_t)nc)];
    bool arabic = cp[at] >= 0x600 && cp[at] <= 0x6FF;
    uint32_t letter = arabic ? ar_letters[pick(sizeof(ar_letters) / sizeof(ar_letters[0]))]
                             : (uint32_t)('a' + pick(26));
    if (!arabic && cp[at] < 0x80 && isupper((int)cp[at]))
        letter = (uint32_t)toupper((int)letter);
    switch (rng() % 4) {
    case 0: /* substitute */
        if (letter == cp[at])
            letter = arabic ? 0x645 : (cp[at] == 'x' ? 'y' : 'x');
        cp[at] = letter;
        break;
    case 1: /* delete */
        memmove(cp + at, cp + at + 1, (size_t)(n - at - 1) * sizeof(cp[0]));
        n--;
        break;
    case 2: /* insert */
        memmove(cp + at + 1, cp + at, (size_t)(n - at) * sizeof(cp[0]));
        cp[at] = letter;
        n++;
        break;
    default: /* transpose with the next letter of the word, or the previous one */
        if (at + 1 < n && cp[at + 1] != ' ' && cp[at + 1] != '-' && cp[at + 1] != cp[at]) {
            uint32_t t = cp[at];
            cp[at] = cp[at + 1];
            cp[at + 1] = t;
        } else if (at > 0 && cp[at - 1] != ' ' && cp[at - 1] != '-' && cp[at - 1] != cp[at]) {
            uint32_t t = cp[at];
            cp[at] = cp[at - 1];
            cp[at - 1] = t;
        } else {
            cp[at] = letter == cp[at] ? (arabic ? 0x645 : 'x') : letter;
        }
        break;
    }
    utf8_encode(cp, n, out, outsz);
    return strcmp(out, name) != 0;
}

/* ------------------------------------------------------------- plant */

static int cmd_plant(int argc, char **argv)
{
    const char *pairs_path = NULL, *persons_path = NULL, *out = NULL;
    uint64_t seed = 1;
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        if (strcmp(a, "--pairs") == 0)
            pairs_path = v;
        else if (strcmp(a, "--persons") == 0)
            persons_path = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else
            die("plant: unknown argument '%s'", a);
    }
    if (!pairs_path || !persons_path || !out)
        die("usage: bench_records plant --pairs TSV --persons CSV --out DIR [--seed S]");
    rng_seed(seed);
    pairs_read(pairs_path);

    /* Family names and birth data of generated persons: as common as they come. */
    int fd = open(persons_path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb))
        die("cannot open '%s': %s", persons_path, strerror(errno));
    const char *buf =
        sb.st_size ? mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (buf == MAP_FAILED || !buf)
        die("cannot map '%s'", persons_path);
    enum { SOURCES = 20000 };
    struct records_person *src = xcalloc(SOURCES, sizeof(*src));
    size_t nsrc = 0;
    struct records_reader rd;
    records_reader_init(&rd, RECORDS_PERSONS, RECORDS_CSV, buf, (size_t)sb.st_size);
    union records_any *rec = xcalloc(1, sizeof(*rec));
    for (;;) {
        struct records_issue issue;
        int got = records_reader_next(&rd, rec, &issue);
        if (got == 0 || nsrc == SOURCES)
            break;
        if (got < 0)
            die("%s line %lld: %s: %s", persons_path, (long long)issue.line, issue.field,
                issue.why);
        if (rec->person.family_ar[0] && rec->person.family_lat[0])
            src[nsrc++] = rec->person;
    }
    munmap((void *)buf, (size_t)sb.st_size);
    close(fd);
    if (!nsrc)
        die("no person with a family name in both scripts in '%s'", persons_path);

    char path[4096];
    snprintf(path, sizeof(path), "%s/planted.csv", out);
    FILE *pf = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/spelling.tsv", out);
    FILE *qf = fopen(path, "w");
    if (!pf || !qf)
        die("cannot write into '%s': %s", out, strerror(errno));
    struct am_buf b;
    am_buf_init(&b, 0);
    if (records_write_header(&b, RECORDS_PERSONS))
        die("out of memory");
    size_t planted = 0;
    for (size_t i = 0; i < npairs; i++) {
        for (int dir = 0; dir < 2; dir++) {
            const char *has = dir ? pairs[i].b : pairs[i].a, *asked = dir ? pairs[i].a : pairs[i].b;
            const struct records_person *s = &src[pick(nsrc)];
            struct records_person *p = &rec->person;
            memset(rec, 0, sizeof(*rec));
            snprintf(p->cin, sizeof(p->cin), "ZZ%08zu", 90000000 + planted);
            am_strlcpy(is_arabic(has) ? p->given_ar : p->given_lat, has, REC_NAME_MAX);
            am_strlcpy(p->family_ar, s->family_ar, REC_NAME_MAX);
            am_strlcpy(p->family_lat, s->family_lat, REC_NAME_MAX);
            am_strlcpy(p->birth_date, s->birth_date, sizeof(p->birth_date));
            am_strlcpy(p->birth_place, s->birth_place, sizeof(p->birth_place));
            am_strlcpy(p->nationality, "MAR", sizeof(p->nationality));
            char field[32] = "", why[200] = "";
            if (records_person_check(p, field, why, sizeof(why)))
                die("planted person for '%s': %s: %s", has, field, why);
            if (records_write(&b, RECORDS_PERSONS, RECORDS_CSV, rec))
                die("cannot write the planted person for '%s'", has);
            const char *family = is_arabic(asked) ? s->family_ar : s->family_lat;
            const char *kind = is_arabic(has) ? (is_arabic(asked) ? "ar>ar" : "ar>lat")
                                              : (is_arabic(asked) ? "lat>ar" : "lat>lat");
            /* set, direction, CIN, query, year of birth (the filtered pass), date of birth */
            fprintf(qf, "spelling\t%s\t%s\t%s %s\t%.4s\t%s\n", kind, p->cin, asked, family,
                    p->birth_date, p->birth_date);
            planted++;
        }
        if (b.len > (1u << 20)) {
            fwrite(b.data, 1, b.len, pf);
            b.len = 0;
        }
    }
    fwrite(b.data, 1, b.len, pf);
    am_buf_release(&b);
    if (fclose(pf) || fclose(qf))
        die("cannot write into '%s'", out);
    free(rec);
    free(src);
    note("%zu pairs: %zu persons planted", npairs, planted);
    return 0;
}

/* ------------------------------------------------------------- store helpers */

static struct store *store_opened(const char *db)
{
    struct store *st = NULL;
    struct store_opts o = {.path = db,
                           .readers = 2,
                           .max_batch = 64,
                           .sync_full = false,
                           .migrations = records_migrations,
                           .nmigrations = records_nmigrations};
    if (store_open(&st, &o))
        die("cannot open the store '%s'", db);
    return st;
}

struct one_i64 {
    const char *sql;
    const char *text;
    int64_t v;
};

static int one_i64_row(struct store_row *r, void *arg)
{
    ((struct one_i64 *)arg)->v = store_row_i64(r, 0);
    return 1;
}

static int one_i64_read(struct store_conn *c, void *arg)
{
    struct one_i64 *q = arg;
    int rc = q->text ? store_query(c, q->sql, one_i64_row, q, "t", q->text)
                     : store_query(c, q->sql, one_i64_row, q, "");
    return rc > 0 ? 0 : rc;
}

/* The first column of the first row of `sql` (with one text parameter or none); -1 if none. */
static int64_t sql_i64(struct store *st, const char *sql, const char *text)
{
    struct one_i64 q = {sql, text, -1};
    if (store_read(st, one_i64_read, &q))
        die("query failed: %s", sql);
    return q.v;
}

/* ------------------------------------------------------------- name queries */

struct name_q {
    const char *set;     /* "names" or "spelling" */
    const char *variant; /* lat, ar, lat_alt, lat_typo, ar_typo; or the spelling direction */
    char cin[REC_CIN_SZ];
    char query[4 * REC_NAME_MAX];
    char year[8];          /* spelling: the planted person's year of birth, or "" */
    char dob[REC_DATE_SZ]; /* the expected person's date of birth, or "" */
    int64_t id;            /* the expected person */
};

struct person_row {
    int64_t id;
    char cin[REC_CIN_SZ];
    char given_ar[REC_NAME_MAX], family_ar[REC_NAME_MAX];
    char given_lat[REC_NAME_MAX], family_lat[REC_NAME_MAX];
    char dob[REC_DATE_SZ];
    bool found;
};

static int person_row_fn(struct store_row *r, void *arg)
{
    struct person_row *p = arg;
    p->id = store_row_i64(r, 0);
    am_strlcpy(p->cin, store_row_text(r, 1), sizeof(p->cin));
    am_strlcpy(p->given_ar, store_row_text(r, 2), sizeof(p->given_ar));
    am_strlcpy(p->family_ar, store_row_text(r, 3), sizeof(p->family_ar));
    am_strlcpy(p->given_lat, store_row_text(r, 4), sizeof(p->given_lat));
    am_strlcpy(p->family_lat, store_row_text(r, 5), sizeof(p->family_lat));
    am_strlcpy(p->dob, store_row_text(r, 6), sizeof(p->dob));
    p->found = true;
    return 1;
}

static int person_read(struct store_conn *c, void *arg)
{
    struct person_row *p = arg;
    int rc = store_query(c,
                         "SELECT id, coalesce(cin, ''), given_ar, family_ar, given_lat, family_lat,"
                         " birth_date FROM persons WHERE id = ?",
                         person_row_fn, p, "i", p->id);
    return rc > 0 ? 0 : rc;
}

static const char *const name_variants[] = {"lat", "ar", "lat_alt", "lat_typo", "ar_typo"};
#define NVARIANTS 5

/* `n` queries made from random stored persons, the variants in turn. */
static struct name_q *names_draw(struct store *st, size_t n, size_t *count)
{
    int64_t maxid = sql_i64(st, "SELECT max(id) FROM persons", NULL);
    if (maxid < 1)
        die("no persons in the store");
    struct name_q *q = xcalloc(n, sizeof(*q));
    size_t k = 0, tries = 0;
    while (k < n && tries < n * 200) {
        tries++;
        /* Without the spelling table there is no other spelling to try: skip that variant. */
        const char *variant = name_variants[k % NVARIANTS];
        if (!npairs && strcmp(variant, "lat_alt") == 0)
            variant = name_variants[(k + 1) % NVARIANTS];
        struct person_row p = {.id = 1 + (int64_t)pick((size_t)maxid)};
        if (store_read(st, person_read, &p))
            die("cannot read person %lld", (long long)p.id);
        if (!p.found || !p.cin[0] || strncmp(p.cin, "ZZ", 2) == 0 || !p.given_ar[0] ||
            !p.family_ar[0] || !p.given_lat[0] || !p.family_lat[0])
            continue;
        struct name_q *x = &q[k];
        char word[REC_NAME_MAX * 2];
        x->set = "names";
        x->variant = variant;
        x->id = p.id;
        am_strlcpy(x->cin, p.cin, sizeof(x->cin));
        am_strlcpy(x->dob, p.dob, sizeof(x->dob));
        if (strcmp(variant, "lat") == 0) {
            snprintf(x->query, sizeof(x->query), "%s %s", p.given_lat, p.family_lat);
        } else if (strcmp(variant, "ar") == 0) {
            snprintf(x->query, sizeof(x->query), "%s %s", p.given_ar, p.family_ar);
        } else if (strcmp(variant, "lat_alt") == 0) {
            const char *alt = npairs ? alt_latin(p.given_lat, p.given_ar) : "";
            if (!*alt)
                continue;
            snprintf(x->query, sizeof(x->query), "%s %s", alt, p.family_lat);
        } else {
            bool ar = strcmp(variant, "ar_typo") == 0;
            /* The error in the given or the family name, at random. */
            bool in_given = rng() & 1;
            const char *g = ar ? p.given_ar : p.given_lat, *f = ar ? p.family_ar : p.family_lat;
            if (!typo(in_given ? g : f, word, sizeof(word)))
                continue;
            snprintf(x->query, sizeof(x->query), "%s %s", in_given ? word : g, in_given ? f : word);
        }
        k++;
    }
    *count = k;
    return q;
}

/* The spelling queries written by `plant`, with the planted persons' ids. */
static struct name_q *spelling_read(struct store *st, const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open '%s': %s", path, strerror(errno));
    size_t n = 0, cap = 0;
    struct name_q *q = NULL;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        char *fld[6];
        char *l = trim(line);
        int nf = split_tabs(l, fld, 6);
        if (nf < 4)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            q = realloc(q, cap * sizeof(*q));
            if (!q)
                die("out of memory");
        }
        struct name_q *x = &q[n];
        memset(x, 0, sizeof(*x));
        x->set = "spelling";
        x->variant = strcmp(fld[1], "ar>lat") == 0   ? "ar>lat"
                     : strcmp(fld[1], "lat>ar") == 0 ? "lat>ar"
                     : strcmp(fld[1], "ar>ar") == 0  ? "ar>ar"
                                                     : "lat>lat";
        am_strlcpy(x->cin, fld[2], sizeof(x->cin));
        am_strlcpy(x->query, fld[3], sizeof(x->query));
        if (nf >= 5)
            am_strlcpy(x->year, fld[4], sizeof(x->year));
        if (nf >= 6)
            am_strlcpy(x->dob, fld[5], sizeof(x->dob));
        x->id = sql_i64(st, "SELECT id FROM persons WHERE cin = ?", x->cin);
        if (x->id < 1)
            die("planted person %s is not in the store: import planted.csv first", x->cin);
        n++;
    }
    free(line);
    fclose(f);
    *count = n;
    return q;
}

#define SLOWEST 8 /* the slowest queries of a set, named in its results */

struct name_run {
    struct name_groups g;
    struct {
        int64_t us;
        size_t i;
    } slow[SLOWEST];
    size_t nslow;
    struct samples cpu; /* thread CPU time of each query: wall minus the machine's noise */
};

/*
 * The expected person's score for its query, searched with its date of birth
 * (or year) as the filter, so that it is among the few answers; -1 if it is
 * not one at all (no candidate, or under the lowest score).
 */
static double own_score(struct rix *ix, const struct name_q *q)
{
    struct rix_hit hits[RIX_LIMIT_MAX];
    const char *born = q->dob[0] ? q->dob : q->year[0] ? q->year : NULL;
    struct rix_query rq = {
        .name = q->query, .birth_date = born, .birth_place = NULL, .limit = RIX_LIMIT_MAX};
    size_t nh = 0;
    if (rix_search(ix, &rq, SEARCH_MIN, hits, &nh))
        return -1;
    for (size_t h = 0; h < nh; h++)
        if (hits[h].id == q->id)
            return hits[h].score;
    return -1;
}

/*
 * Times each query alone (limit 10); for an expected person not in the
 * first 10, untimed, a pass with limit 100 and its own score.
 */
static json_t *names_run(struct rix *ix, struct name_q *q, size_t n, bool with_year, size_t warmup)
{
    struct name_run nr;
    memset(&nr, 0, sizeof(nr));
    struct rix_hit hits[RIX_LIMIT_MAX];
    for (size_t i = 0; i < warmup && n; i++) {
        struct rix_query rq = {
            .name = q[i % n].query, .birth_date = NULL, .birth_place = NULL, .limit = 10};
        size_t nh;
        rix_search(ix, &rq, SEARCH_MIN, hits, &nh);
    }
    for (size_t i = 0; i < n; i++) {
        struct rix_query rq = {.name = q[i].query,
                               .birth_date = with_year && q[i].year[0] ? q[i].year : NULL,
                               .birth_place = NULL,
                               .limit = 10};
        size_t nh = 0;
        int64_t c0 = cpu_us(), t0 = mono_us();
        int rc = rix_search(ix, &rq, SEARCH_MIN, hits, &nh);
        int64_t us = mono_us() - t0;
        samples_add(&nr.cpu, cpu_us() - c0);
        if (nr.nslow < SLOWEST || us > nr.slow[nr.nslow - 1].us) {
            size_t k = nr.nslow < SLOWEST ? nr.nslow++ : SLOWEST - 1;
            for (; k > 0 && nr.slow[k - 1].us < us; k--)
                nr.slow[k] = nr.slow[k - 1];
            nr.slow[k].us = us;
            nr.slow[k].i = i;
        }
        struct name_outcome o = {.refused = rc != 0};
        for (size_t h = 0; !rc && h < nh && !o.rank; h++)
            if (hits[h].id == q[i].id)
                o.rank = (int)h + 1;
        if (!rc && !o.rank) {
            /*
             * Not in the first 10: is it among the first 100, and did 10
             * persons score at least as high as it does (outranked), or was
             * it passed over (missed)? Its own score is that of the same
             * search with its date of birth as the filter.
             */
            double tenth = nh >= 10 ? hits[9].score : -1;
            rq.limit = RIX_LIMIT_MAX;
            if (nh >= 10 && !rix_search(ix, &rq, SEARCH_MIN, hits, &nh))
                for (size_t h = 0; h < nh && !o.in100; h++)
                    o.in100 = hits[h].id == q[i].id;
            double own = own_score(ix, &q[i]);
            o.outranked = own >= 0 && tenth >= own - 1e-9;
        }
        name_groups_add(&nr.g, q[i].variant, us, &o);
    }
    json_t *j = name_groups_json(&nr.g);
    json_object_set_new(j, "cpu", samples_summary(&nr.cpu));
    json_t *slow = json_array();
    for (size_t k = 0; k < nr.nslow; k++)
        json_array_append_new(
            slow, json_pack("{sf ss ss}", "ms", round3((double)nr.slow[k].us / 1e3), "query",
                            q[nr.slow[k].i].query, "variant", q[nr.slow[k].i].variant));
    json_object_set_new(j, "slowest", slow);
    free(nr.cpu.v);
    return j;
}

static void names_write(const char *path, const struct name_q *q, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write '%s': %s", path, strerror(errno));
    /* set, variant, CIN, query, year of birth (spelling only), date of birth */
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", q[i].set, q[i].variant, q[i].cin, q[i].query,
                q[i].year, q[i].dob);
    if (fclose(f))
        die("cannot write '%s'", path);
}

/* ------------------------------------------------------------- plate checks */

struct plate_q {
    const char *set;  /* "hit" (an active hotlist entry) or "vehicle" (a random vehicle) */
    const char *form; /* written, display, key, spaced, misread */
    char expect[REC_PLATE_KEY_SZ]; /* the key of the entry to find; "" none */
    char country[3];
    char text[REC_PLATE_SZ + 8];
    char key[REC_PLATE_KEY_SZ]; /* the text's own key (plate_parse), "" if it parses not */
    char variants[VARIANTS_MAX * REC_PLATE_KEY_SZ];
};

struct plate_src {
    char plate[REC_PLATE_SZ], key[REC_PLATE_KEY_SZ], country[3];
    bool active;
};

struct plate_list {
    struct plate_src *v;
    size_t n, cap;
    char today[REC_DATE_SZ];
};

static int plate_src_row(struct store_row *r, void *arg)
{
    struct plate_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v)
            return AM_ENOMEM;
    }
    struct plate_src *p = &l->v[l->n++];
    am_strlcpy(p->plate, store_row_text(r, 0), sizeof(p->plate));
    am_strlcpy(p->key, store_row_text(r, 1), sizeof(p->key));
    am_strlcpy(p->country, store_row_text(r, 2), sizeof(p->country));
    const char *from = store_row_text(r, 3), *until = store_row_text(r, 4);
    p->active =
        (!*from || strcmp(l->today, from) >= 0) && (!*until || strcmp(l->today, until) <= 0);
    return 0;
}

static int hot_plates_read(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT h.plate, h.plate_key, coalesce(v.country, 'MA'), h.valid_from,"
                       " h.valid_until FROM hotlist h LEFT JOIN vehicles v"
                       " ON v.plate_key = h.plate_key WHERE h.plate_key IS NOT NULL"
                       " AND h.plate_key <> '' AND h.cancelled_us IS NULL",
                       plate_src_row, arg, "");
}

struct vehicle_pick {
    int64_t id;
    struct plate_list *l;
};

static int vehicle_read(struct store_conn *c, void *arg)
{
    struct vehicle_pick *p = arg;
    return store_query(c, "SELECT plate, plate_key, country, '', '' FROM vehicles WHERE id = ?",
                       plate_src_row, p->l, "i", p->id);
}

/* A character that a camera or a tired eye confuses with another, and that other. */
static char confusable(char c)
{
    switch (c) {
    case '0':
        return (rng() & 1) ? 'O' : 'D';
    case 'O':
    case 'D':
    case 'Q':
        return '0';
    case '8':
        return 'B';
    case 'B':
        return '8';
    case '1':
        return 'I';
    case 'I':
    case 'L':
        return '1';
    case '5':
        return 'S';
    case 'S':
        return '5';
    case '2':
        return 'Z';
    case 'Z':
        return '2';
    default:
        return 0;
    }
}

/* The plate with one confusable character exchanged; false if it has none. */
static bool misread(const char *plate, char *out, size_t outsz)
{
    size_t at[REC_PLATE_SZ], n = 0, len = strlen(plate);
    for (size_t i = 0; i < len && n < REC_PLATE_SZ; i++)
        if (confusable(plate[i]))
            at[n++] = i;
    if (!n || len >= outsz)
        return false;
    memcpy(out, plate, len + 1);
    size_t i = at[pick(n)];
    out[i] = confusable(out[i]);
    return true;
}

/* A plate in the form asked; false if that form does not apply to it. */
static bool plate_form(const struct plate_src *s, const char *form, char *out, size_t outsz)
{
    struct plate p;
    if (strcmp(form, "written") == 0) {
        am_strlcpy(out, s->plate, outsz);
        return true;
    }
    if (strcmp(form, "key") == 0) {
        am_strlcpy(out, s->key, outsz);
        return true;
    }
    if (strcmp(form, "misread") == 0)
        return misread(s->plate, out, outsz);
    if (plate_parse(s->plate, strlen(s->plate), s->country, &p, NULL, 0))
        return false;
    if (strcmp(form, "display") == 0) {
        am_strlcpy(out, p.display, outsz);
        return true;
    }
    /* spaced: the display without its bars, as a person types it */
    size_t k = 0;
    for (const char *c = p.display; *c && k + 1 < outsz; c++)
        if (*c != '|' && !(*c == ' ' && k && out[k - 1] == ' '))
            out[k++] = *c;
    out[k] = '\0';
    return true;
}

static const char *const plate_forms[] = {"written", "display", "key", "spaced", "misread"};
#define NFORMS 5

static void plate_fill(struct plate_q *q, const char *text, const char *country)
{
    am_strlcpy(q->text, text, sizeof(q->text));
    am_strlcpy(q->country, country, sizeof(q->country));
    struct plate p;
    if (!plate_parse(text, strlen(text), country, &p, NULL, 0))
        am_strlcpy(q->key, p.key, sizeof(q->key));
    struct plate_variant var[VARIANTS_MAX];
    size_t nvar = 0;
    plate_variants(text, strlen(text), country, var, VARIANTS_MAX, &nvar);
    size_t k = 0;
    for (size_t i = 0; i < nvar; i++)
        k += (size_t)snprintf(q->variants + k, sizeof(q->variants) - k, "%s%s", i ? "," : "",
                              var[i].key);
}

/* Half the checks on active hotlist entries, half on random vehicles, the forms in turn. */
static struct plate_q *plates_draw(struct store *st, size_t n, size_t *count, size_t *active_out)
{
    struct plate_list hot = {0};
    char ts[AM_TIME_BUFSZ];
    am_time_fmt(am_now_us(), ts, sizeof(ts));
    am_strlcpy(hot.today, ts, sizeof(hot.today));
    if (store_read(st, hot_plates_read, &hot))
        die("cannot read the hotlist");
    size_t nactive = 0;
    for (size_t i = 0; i < hot.n; i++)
        if (hot.v[i].active)
            hot.v[nactive++] = hot.v[i];
    *active_out = nactive;
    int64_t maxv = sql_i64(st, "SELECT max(id) FROM vehicles", NULL);
    struct plate_q *q = xcalloc(n, sizeof(*q));
    size_t k = 0, tries = 0;
    struct plate_list one = {0};
    am_strlcpy(one.today, hot.today, sizeof(one.today));
    while (k < n && tries < n * 100) {
        tries++;
        struct plate_q *x = &q[k];
        const char *form = plate_forms[(k / 2) % NFORMS];
        const struct plate_src *s;
        if (k % 2 == 0) {
            if (!nactive)
                continue;
            s = &hot.v[pick(nactive)];
            x->set = "hit";
            am_strlcpy(x->expect, s->key, sizeof(x->expect));
        } else {
            if (maxv < 1)
                continue;
            one.n = 0;
            struct vehicle_pick vp = {1 + (int64_t)pick((size_t)maxv), &one};
            if (store_read(st, vehicle_read, &vp) || !one.n)
                continue;
            s = &one.v[0];
            x->set = "vehicle";
            /* A vehicle may be on the hotlist too: then the check should find it. */
            if (sql_i64(st,
                        "SELECT count(*) FROM hotlist WHERE plate_key = ? AND cancelled_us IS NULL",
                        s->key) > 0)
                am_strlcpy(x->expect, s->key, sizeof(x->expect));
        }
        char text[REC_PLATE_SZ + 8];
        if (!plate_form(s, form, text, sizeof(text)))
            continue;
        x->form = form;
        plate_fill(x, text, s->country);
        k++;
    }
    free(one.v);
    free(hot.v);
    *count = k;
    return q;
}

static void plates_write(const char *path, const struct plate_q *q, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write '%s': %s", path, strerror(errno));
    /* set, form, expected key, country, text, its key, the keys of its readings */
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q[i].set, q[i].form, q[i].expect, q[i].country,
                q[i].text, q[i].key, q[i].variants);
    if (fclose(f))
        die("cannot write '%s'", path);
}

struct plate_stats {
    struct samples lat;
    uint64_t n, expect, found, found_first, false_hits;
};

static json_t *plate_stats_json(struct plate_stats *s)
{
    json_t *j = samples_summary(&s->lat);
    json_object_set_new(j, "expected_hits", json_integer((json_int_t)s->expect));
    json_object_set_new(j, "found", json_integer((json_int_t)s->found));
    /* The expected entry at score 1 (the plate as it is), not only as a misreading. */
    json_object_set_new(j, "found_as_written", json_integer((json_int_t)s->found_first));
    /* Checks that expected none and got an entry (by a misreading of the plate). */
    json_object_set_new(j, "other_hits", json_integer((json_int_t)s->false_hits));
    return j;
}

/* The hotlist check as POST /api/v1/hotlist/check does it, minus HTTP and the access log. */
static json_t *plate_check(struct records *r, const struct plate_q *q)
{
    struct plate_variant var[VARIANTS_MAX];
    size_t nvar = 0;
    plate_variants(q->text, strlen(q->text), q->country, var, VARIANTS_MAX, &nvar);
    char keys[VARIANTS_MAX][40];
    const char *kp[VARIANTS_MAX];
    double scores[VARIANTS_MAX];
    for (size_t i = 0; i < nvar; i++) {
        snprintf(keys[i], sizeof(keys[i]), "P:%.*s", (int)sizeof(var[i].key) - 1, var[i].key);
        kp[i] = keys[i];
        scores[i] = var[i].score;
    }
    json_t *hits = NULL;
    if (records_hot_match(r, kp, scores, nvar, &hits))
        die("records_hot_match failed");
    return hits;
}

static json_t *plates_run(struct records *r, struct plate_q *q, size_t n, size_t warmup)
{
    struct plate_stats all, by_set[2], by_form[NFORMS];
    memset(&all, 0, sizeof(all));
    memset(by_set, 0, sizeof(by_set));
    memset(by_form, 0, sizeof(by_form));
    struct samples variants_only = {0}, cpu = {0};
    for (size_t i = 0; i < warmup && n; i++)
        json_decref(plate_check(r, &q[i % n]));
    for (size_t i = 0; i < n; i++) {
        int64_t c0 = cpu_us(), t0 = mono_us();
        json_t *hits = plate_check(r, &q[i]);
        int64_t us = mono_us() - t0;
        samples_add(&cpu, cpu_us() - c0);
        /* The readings alone, for where the time goes. */
        struct plate_variant var[VARIANTS_MAX];
        size_t nvar;
        int64_t t1 = mono_us();
        plate_variants(q[i].text, strlen(q[i].text), q[i].country, var, VARIANTS_MAX, &nvar);
        samples_add(&variants_only, mono_us() - t1);
        int form = 0;
        while (form < NFORMS - 1 && strcmp(plate_forms[form], q[i].form))
            form++;
        struct plate_stats *g[3] = {&all, &by_set[strcmp(q[i].set, "hit") != 0], &by_form[form]};
        bool found = false, first = false;
        for (size_t h = 0; h < json_array_size(hits); h++) {
            json_t *e = json_array_get(hits, h);
            const char *key = json_string_value(json_object_get(e, "plate_key"));
            if (q[i].expect[0] && key && strcmp(key, q[i].expect) == 0) {
                found = true;
                first = json_real_value(json_object_get(e, "score")) >= 0.999;
            }
        }
        for (int k = 0; k < 3; k++) {
            samples_add(&g[k]->lat, us);
            g[k]->n++;
            g[k]->expect += q[i].expect[0] != 0;
            g[k]->found += found;
            g[k]->found_first += first;
            g[k]->false_hits += !q[i].expect[0] && json_array_size(hits) > 0;
        }
        json_decref(hits);
    }
    json_t *j = plate_stats_json(&all);
    json_object_set_new(j, "hotlist_entries", plate_stats_json(&by_set[0]));
    json_object_set_new(j, "random_vehicles", plate_stats_json(&by_set[1]));
    json_t *forms = json_object();
    for (int f = 0; f < NFORMS; f++) {
        json_object_set_new(forms, plate_forms[f], plate_stats_json(&by_form[f]));
        free(by_form[f].lat.v);
    }
    json_object_set_new(j, "by_form", forms);
    json_object_set_new(j, "plate_variants_alone", samples_summary(&variants_only));
    json_object_set_new(j, "cpu", samples_summary(&cpu));
    free(cpu.v);
    free(variants_only.v);
    free(all.lat.v);
    free(by_set[0].lat.v);
    free(by_set[1].lat.v);
    return j;
}

/* ------------------------------------------------------------- run */

static int cmd_run(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *pairs_path = NULL, *spelling = NULL;
    size_t nnames = 2000, nplates = 2000, warmup = 200, sub_names = 0, sub_spelling = 0;
    uint64_t seed = 1;
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        if (strcmp(a, "--db") == 0)
            db = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--pairs") == 0)
            pairs_path = v;
        else if (strcmp(a, "--spelling") == 0)
            spelling = v;
        else if (strcmp(a, "--names") == 0)
            nnames = strtoull(v, NULL, 10);
        else if (strcmp(a, "--plates") == 0)
            nplates = strtoull(v, NULL, 10);
        else if (strcmp(a, "--warmup") == 0)
            warmup = strtoull(v, NULL, 10);
        else if (strcmp(a, "--subset-names") == 0)
            sub_names = strtoull(v, NULL, 10);
        else if (strcmp(a, "--subset-spelling") == 0)
            sub_spelling = strtoull(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else
            die("run: unknown argument '%s'", a);
    }
    if (!db || !out)
        die("usage: bench_records run --db DB --out DIR [--pairs TSV] [--spelling TSV]"
            " [--names N] [--plates N] [--warmup N] [--seed S] [--subset-names N]"
            " [--subset-spelling N]");
    rng_seed(seed);
    if (pairs_path)
        pairs_read(pairs_path);
    am_log_set_level(AM_LOG_WARN);

    double rss0, hwm0, rss1, hwm1, rss2, hwm2;
    rss_mb(&rss0, &hwm0);
    struct store *st = store_opened(db);
    struct records *r = NULL;
    int64_t t0 = mono_us();
    int rc = records_new(&r, st, NULL, NULL);
    if (rc)
        die("records_new failed: %s", am_strerror(rc));
    int64_t t1 = mono_us();
    rss_mb(&rss1, &hwm1);
    if ((rc = records_start(r)) != 0)
        die("records_start failed: %s", am_strerror(rc));
    int64_t t2 = mono_us();
    rss_mb(&rss2, &hwm2);
    struct rix_stats rs;
    rix_stats_get(r->ix, &rs);
    note("index: %llu persons, %llu spellings, %llu postings in %.1f s, RSS %.0f MiB",
         (unsigned long long)rs.persons, (unsigned long long)rs.vocabulary,
         (unsigned long long)rs.postings, (double)(t2 - t1) / 1e6, rss2);

    json_t *res = json_pack(
        "{ss sI sI sI sf sf sf sf sf sf}", "tool", "bench_records", "persons",
        (json_int_t)rs.persons, "vocabulary", (json_int_t)rs.vocabulary, "postings",
        (json_int_t)rs.postings, "hotlist_load_s", round3((double)(t1 - t0) / 1e6), "index_load_s",
        round3((double)(t2 - t1) / 1e6), "rss_mb_store_open", round(rss0), "rss_mb_hotlist",
        round(rss1), "rss_mb_index", round(rss2), "hwm_mb", round(hwm2));

    /* Query sets: drawn here, written for the peer and the HTTP client. */
    char path[4096];
    size_t nq = 0, ns = 0, np = 0, active = 0;
    struct name_q *q = names_draw(st, nnames, &nq);
    snprintf(path, sizeof(path), "%s/names.tsv", out);
    names_write(path, q, nq);
    struct name_q *sq = spelling ? spelling_read(st, spelling, &ns) : NULL;
    struct plate_q *pq = plates_draw(st, nplates, &np, &active);
    snprintf(path, sizeof(path), "%s/plates.tsv", out);
    plates_write(path, pq, np);
    note("%zu name queries, %zu spelling queries, %zu plate checks (%zu active plate entries)", nq,
         ns, np, active);

    json_object_set_new(res, "names", names_run(r->ix, q, nq, false, warmup));
    if (sq) {
        json_object_set_new(res, "spelling", names_run(r->ix, sq, ns, false, 0));
        json_object_set_new(res, "spelling_with_year", names_run(r->ix, sq, ns, true, 0));
    }
    /*
     * The subsets the PostgreSQL peer asks when it cannot ask all (its
     * --max-names, --max-spelling): the first N name queries, N spelling
     * queries evenly spaced over the table, timed again here so that both
     * sides answer exactly the same questions.
     */
    if (sub_names && sub_names < nq)
        json_object_set_new(res, "names_subset", names_run(r->ix, q, sub_names, false, 0));
    if (sq && sub_spelling && sub_spelling < ns) {
        struct name_q *sub = xcalloc(sub_spelling, sizeof(*sub));
        for (size_t i = 0; i < sub_spelling; i++)
            sub[i] = sq[i * ns / sub_spelling];
        json_object_set_new(res, "spelling_subset", names_run(r->ix, sub, sub_spelling, false, 0));
        json_object_set_new(res, "spelling_with_year_subset",
                            names_run(r->ix, sub, sub_spelling, true, 0));
        free(sub);
    }
    json_object_set_new(res, "plates", plates_run(r, pq, np, warmup));
    json_object_set_new(res, "hotlist_plates_active", json_integer((json_int_t)active));
    char *line = json_dumps(res, JSON_COMPACT);
    puts(line);
    free(line);
    json_decref(res);
    free(q);
    free(sq);
    free(pq);
    records_free(r);
    store_close(st);
    return 0;
}

/* ------------------------------------------------------------- pgprep */

struct csv_out {
    FILE *f;
    int cols;
};

/* One CSV field, quoted (RFC 4180); NULL for a SQL NULL (empty, unquoted). */
static void csv_field(FILE *f, const char *s, bool last)
{
    if (s) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    }
    fputc(last ? '\n' : ',', f);
}

static int copy_row(struct store_row *r, void *arg)
{
    struct csv_out *o = arg;
    for (int i = 0; i < o->cols; i++)
        csv_field(o->f, store_row_null(r, i) ? NULL : store_row_text(r, i), i == o->cols - 1);
    return ferror(o->f) ? AM_EIO : 0;
}

static int vehicles_copy(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT id, plate, plate_key, plate_kind, country, vin, make, model,"
                       " colour, year, owner_cin FROM vehicles ORDER BY id",
                       copy_row, arg, "");
}

static int hotlist_copy(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT id, kind, person_id, cin, plate, plate_key, vin, reason, service,"
                       " valid_from, valid_until, action, instructions FROM hotlist"
                       " WHERE cancelled_us IS NULL ORDER BY id",
                       copy_row, arg, "");
}

static int cmd_pgprep(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else
            die("pgprep: unknown argument '%s'", argv[i]);
    }
    if (!db || !out)
        die("usage: bench_records pgprep --db DB --out DIR");
    am_log_set_level(AM_LOG_WARN);
    struct store *st = store_opened(db);
    char path[4096];
    snprintf(path, sizeof(path), "%s/vehicles_pg.csv", out);
    struct csv_out o = {fopen(path, "w"), 11};
    if (!o.f || store_read(st, vehicles_copy, &o) || fclose(o.f))
        die("cannot write '%s'", path);
    snprintf(path, sizeof(path), "%s/hotlist_pg.csv", out);
    o = (struct csv_out){fopen(path, "w"), 13};
    if (!o.f || store_read(st, hotlist_copy, &o) || fclose(o.f))
        die("cannot write '%s'", path);
    store_close(st);
    return 0;
}

int main(int argc, char **argv)
{
    bench_prog = "bench_records";
    if (argc < 2)
        die("usage: bench_records plant|run|pgprep ...");
    if (strcmp(argv[1], "plant") == 0)
        return cmd_plant(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "pgprep") == 0)
        return cmd_pgprep(argc - 2, argv + 2);
    die("unknown command '%s' (plant, run, pgprep)", argv[1]);
}
