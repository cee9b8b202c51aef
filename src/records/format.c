/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * format.c - the import and export formats of the records: CSV (RFC 4180)
 * and JSON lines, read record by record into the structs of records.h and
 * checked (check.c), and written back so that a reader reads exactly the
 * same records again.
 *
 * One table per kind names the fields, their type and where they live in
 * the struct; readers and writers are driven by it, so the column names of
 * CSV, the keys of JSON lines and the struct fields cannot drift apart.
 *
 * CSV: a header line names the columns, in any order; a column the kind
 * does not have is a header issue (reported once, ending the input);
 * missing columns are empty. A UTF-8 BOM at the start is skipped; lines end
 * in LF or CRLF; quoted fields may hold commas, quotes ("") and line breaks
 * (CRLF inside a quoted field is read as LF). Every record must have as
 * many fields as the header has columns. Lines of only blanks are skipped.
 * A list field (aliases, addresses, phones) joins its items with ';': an
 * item can never hold ';' (check.c refuses it), so there is nothing to
 * escape. Empty integer fields are 0. The CSV path copies each field once,
 * from the input straight into the record (through a small stack buffer
 * when it must be unescaped): no allocation.
 *
 * JSON lines: one object per line, parsed by jansson (am_json_parse_object:
 * valid UTF-8, no NUL, no duplicate keys); unknown keys are an issue;
 * string fields are strings, lists arrays of strings, year and person_id
 * integers; null is an empty value. The writer leaves out empty fields.
 *
 * A hotlist entry of a foreign plate: the struct has no country, so a
 * foreign plate is written as its key form "F:FR:AB-123-CD" (plate.h). On
 * reading, a `country` column or key (not written by the writer) is folded
 * into the plate that way.
 *
 * Phone numbers are normalised (records_phone_parse) as they are read, so
 * that a number written with spaces longer than the field still fits.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "records/format.h"
#include "records/plate.h"

/* ------------------------------------------------------------ the tables */

enum field_type {
    FT_STR,     /* char[size] */
    FT_LIST,    /* char[max][size] and an int count */
    FT_INT,     /* int */
    FT_I64,     /* int64_t */
    FT_COUNTRY, /* hotlist only: read and folded into the plate, never written */
};

struct rfield {
    const char *name;
    enum field_type type;
    uint16_t off, size; /* the string, or the first item of a list and one item's size */
    uint16_t count_off; /* list: the int that counts its items */
    uint8_t max;        /* list: items at most */
    bool phone;         /* list: items are phone numbers */
};

#define MEMBER_SIZE(T, f) sizeof(((T *)0)->f)
#define STR(T, f)                                                                                  \
    {                                                                                              \
#f, FT_STR, offsetof(T, f), MEMBER_SIZE(T, f), 0, 0, false                                 \
    }
#define LIST(T, f, cnt, mx, ph)                                                                    \
    {                                                                                              \
#f, FT_LIST, offsetof(T, f), MEMBER_SIZE(T, f[0]), offsetof(T, cnt), mx, ph                \
    }
#define INT(T, f)                                                                                  \
    {                                                                                              \
#f, FT_INT, offsetof(T, f), MEMBER_SIZE(T, f), 0, 0, false                                 \
    }
#define I64(T, f)                                                                                  \
    {                                                                                              \
#f, FT_I64, offsetof(T, f), MEMBER_SIZE(T, f), 0, 0, false                                 \
    }

#define P struct records_person
static const struct rfield person_fields[] = {
    STR(P, cin),
    STR(P, given_ar),
    STR(P, family_ar),
    STR(P, father_ar),
    STR(P, given_lat),
    STR(P, family_lat),
    STR(P, father_lat),
    LIST(P, aliases, naliases, REC_ALIASES_MAX, false),
    STR(P, birth_date),
    STR(P, birth_place),
    STR(P, nationality),
    STR(P, sex),
    LIST(P, addresses, naddresses, REC_ADDR_MAX, false),
    LIST(P, phones, nphones, REC_PHONES_MAX, true),
};
#undef P

#define V struct records_vehicle
static const struct rfield vehicle_fields[] = {
    STR(V, plate), STR(V, country), STR(V, vin),  STR(V, make),
    STR(V, model), STR(V, colour),  INT(V, year), STR(V, owner_cin),
};
#undef V

#define H struct records_hotlist
static const struct rfield hotlist_fields[] = {
    STR(H, kind),
    STR(H, cin),
    I64(H, person_id),
    STR(H, plate),
    {"country", FT_COUNTRY, 0, 3, 0, 0, false},
    STR(H, vin),
    STR(H, reason),
    STR(H, service),
    STR(H, valid_from),
    STR(H, valid_until),
    STR(H, action),
    STR(H, instructions),
};
#undef H

struct rkind {
    const char *name;
    const struct rfield *fields;
    int nfields;
};

static const struct rkind kinds[] = {
    [RECORDS_PERSONS] = {"persons", person_fields,
                         (int)(sizeof(person_fields) / sizeof(person_fields[0]))},
    [RECORDS_VEHICLES] = {"vehicles", vehicle_fields,
                          (int)(sizeof(vehicle_fields) / sizeof(vehicle_fields[0]))},
    [RECORDS_HOTLIST] = {"hotlist", hotlist_fields,
                         (int)(sizeof(hotlist_fields) / sizeof(hotlist_fields[0]))},
};

/* The longest field value, unescaped: every field and list fits well within it. */
#define FIELD_VALUE_MAX 1024

int records_kind_parse(const char *s, enum records_kind *out)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (s && strcmp(s, kinds[i].name) == 0) {
            *out = (enum records_kind)i;
            return 0;
        }
    }
    return AM_EINVAL;
}

int records_format_parse(const char *s, enum records_format *out)
{
    if (s && strcmp(s, "csv") == 0) {
        *out = RECORDS_CSV;
        return 0;
    }
    if (s && strcmp(s, "jsonl") == 0) {
        *out = RECORDS_JSONL;
        return 0;
    }
    return AM_EINVAL;
}

const char *records_kind_name(enum records_kind kind)
{
    return (unsigned)kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[kind].name : NULL;
}

/* ------------------------------------------------------------ one record */

/* What a record being read carries besides its struct. */
struct rec_ctx {
    const struct rkind *k;
    char *rec; /* the union, as bytes */
    struct records_issue *issue;
    int64_t line;
    bool failed;     /* an issue is set: the first one is kept */
    char country[3]; /* hotlist: the country column */
};

static void ctx_fail(struct rec_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ctx_fail(struct rec_ctx *c, const char *field, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    c->issue->line = c->line;
    am_strlcpy(c->issue->field, field, sizeof(c->issue->field));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->issue->why, sizeof(c->issue->why), fmt, ap);
    va_end(ap);
}

static void put_str(struct rec_ctx *c, const struct rfield *f, const char *v, size_t n)
{
    if (n >= f->size) {
        ctx_fail(c, f->name, "longer than %u bytes", (unsigned)(f->size - 1));
        return;
    }
    if (memchr(v, '\0', n)) {
        ctx_fail(c, f->name, "contains a NUL byte");
        return;
    }
    memcpy(c->rec + f->off, v, n); /* the record was zeroed: the string is terminated */
}

/* Item number `i` of list `f`. */
static void put_item(struct rec_ctx *c, const struct rfield *f, int i, const char *v, size_t n)
{
    if (i >= f->max) {
        ctx_fail(c, f->name, "more than %d items", f->max);
        return;
    }
    char *dst = c->rec + f->off + (size_t)i * f->size;
    if (f->phone) {
        char why[128];
        if (n == 0) {
            ctx_fail(c, f->name, "an empty item");
            return;
        }
        if (memchr(v, '\0', n) || records_phone_parse(v, n, dst, why, sizeof(why))) {
            ctx_fail(c, f->name, "phone %d: %s", i + 1, memchr(v, '\0', n) ? "a NUL byte" : why);
            return;
        }
    } else if (n >= f->size) {
        ctx_fail(c, f->name, "item %d longer than %u bytes", i + 1, (unsigned)(f->size - 1));
        return;
    } else if (memchr(v, '\0', n)) {
        ctx_fail(c, f->name, "contains a NUL byte");
        return;
    } else {
        memcpy(dst, v, n);
    }
    *(int *)(c->rec + f->count_off) = i + 1;
}

static void put_int(struct rec_ctx *c, const struct rfield *f, int64_t v)
{
    if (f->type == FT_INT) {
        if (v < INT_MIN || v > INT_MAX) {
            ctx_fail(c, f->name, "out of range");
            return;
        }
        int iv = (int)v;
        memcpy(c->rec + f->off, &iv, sizeof(iv));
    } else {
        memcpy(c->rec + f->off, &v, sizeof(v));
    }
}

static void put_country(struct rec_ctx *c, const struct rfield *f, const char *v, size_t n)
{
    bool ok = n == 0 || n == 2;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z');
    if (!ok) {
        ctx_fail(c, f->name, "an ISO 3166-1 alpha-2 code (FR, ES), or empty");
        return;
    }
    memcpy(c->country, v, n);
    c->country[n] = '\0';
}

/* A CSV or string value for field f: lists split at ';', integers parsed. */
static void put_text(struct rec_ctx *c, const struct rfield *f, const char *v, size_t n)
{
    switch (f->type) {
    case FT_STR:
        put_str(c, f, v, n);
        break;
    case FT_LIST:
        if (n == 0)
            break;
        for (int i = 0;; i++) {
            const char *e = memchr(v, ';', n);
            size_t len = e ? (size_t)(e - v) : n;
            put_item(c, f, i, v, len);
            if (!e || c->failed)
                break;
            n -= len + 1;
            v = e + 1;
        }
        break;
    case FT_INT:
    case FT_I64: {
        if (n == 0)
            break;
        char buf[24];
        int64_t iv;
        if (n >= sizeof(buf)) {
            ctx_fail(c, f->name, "not an integer");
            break;
        }
        memcpy(buf, v, n);
        buf[n] = '\0';
        if (am_parse_i64(buf, INT64_MIN, INT64_MAX, &iv) || buf[0] == '+') {
            ctx_fail(c, f->name, "not an integer");
            break;
        }
        put_int(c, f, iv);
        break;
    }
    case FT_COUNTRY:
        put_country(c, f, v, n);
        break;
    }
}

/* Ends a record: folds the hotlist country into the plate, then checks. 1, or AM_EINVAL. */
static int record_finish(struct rec_ctx *c, enum records_kind kind, union records_any *out)
{
    if (!c->failed && kind == RECORDS_HOTLIST && c->country[0] &&
        !((c->country[0] | 0x20) == 'm' && (c->country[1] | 0x20) == 'a')) {
        char *plate = out->hotlist.plate;
        char cc[3] = {(char)(c->country[0] & ~0x20), (char)(c->country[1] & ~0x20), '\0'};
        if (!plate[0]) {
            ctx_fail(c, "country", "a country without a plate");
        } else if ((plate[0] == 'F' || plate[0] == 'f') && plate[1] == ':') {
            if ((plate[2] & ~0x20) != cc[0] || (plate[3] & ~0x20) != cc[1])
                ctx_fail(c, "country", "the plate names another country");
        } else {
            char folded[REC_PLATE_SZ];
            int n = snprintf(folded, sizeof(folded), "F:%s:%s", cc, plate);
            if (n < 0 || (size_t)n >= sizeof(folded))
                ctx_fail(c, "plate", "longer than %zu bytes with its country", sizeof(folded) - 6);
            else
                memcpy(plate, folded, (size_t)n + 1);
        }
    }
    if (c->failed)
        return AM_EINVAL;
    char field[24] = "", why[sizeof(c->issue->why)] = "";
    int rc = AM_EINVAL;
    switch (kind) {
    case RECORDS_PERSONS:
        rc = records_person_check(&out->person, field, why, sizeof(why));
        break;
    case RECORDS_VEHICLES:
        rc = records_vehicle_check(&out->vehicle, field, why, sizeof(why));
        break;
    case RECORDS_HOTLIST:
        rc = records_hotlist_check(&out->hotlist, field, why, sizeof(why));
        break;
    }
    if (rc) {
        ctx_fail(c, field, "%s", why);
        return AM_EINVAL;
    }
    return 1;
}

static void issue_set(struct records_issue *is, int64_t line, const char *field, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

static void issue_set(struct records_issue *is, int64_t line, const char *field, const char *fmt,
                      ...)
{
    is->line = line;
    am_strlcpy(is->field, field, sizeof(is->field));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->why, sizeof(is->why), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ CSV */

/* Bytes that end an unquoted field, or are errors in one. */
static const bool csv_stop[256] = {
    [','] = true, ['\n'] = true, ['\r'] = true, ['"'] = true, ['\0'] = true};

/* Called with each field of a record: its column and raw bytes (quotes removed). */
typedef void (*csv_field_fn)(void *arg, int col, const char *v, size_t n, bool escaped);

/*
 * Walks one CSV record from r->pos, calling fn for each field, and moves
 * r->pos and r->line past it. Sets *ncols. Returns 0, or AM_EINVAL with the
 * reason in *syntax when the record is malformed: then the reader goes on
 * after the line where the problem is.
 */
static int csv_scan(struct records_reader *r, csv_field_fn fn, void *arg, int *ncols,
                    const char **syntax)
{
    const char *b = r->buf;
    size_t n = r->len, p = r->pos, start = p;
    size_t limit = n - start > RECORDS_LINE_MAX ? start + RECORDS_LINE_MAX : n;
    int64_t lines = 1;
    size_t resync;
    int col = 0;
    for (;;) {
        const char *v;
        size_t vn;
        bool escaped = false;
        if (p < n && b[p] == '"') {
            size_t q = p + 1;
            for (;;) {
                const char *e = q < limit ? memchr(b + q, '"', limit - q) : NULL;
                if (!e) {
                    *syntax = limit < n ? "a record longer than 16384 bytes, or a quote not closed"
                                        : "a quote not closed";
                    resync = p;
                    goto bad;
                }
                q = (size_t)(e - b);
                if (q + 1 < n && b[q + 1] == '"') {
                    escaped = true;
                    q += 2;
                    continue;
                }
                break;
            }
            v = b + p + 1;
            vn = q - p - 1;
            p = q + 1;
            for (const char *x = v; (x = memchr(x, '\n', (size_t)(v + vn - x))); x++)
                lines++;
            if (memchr(v, '\r', vn))
                escaped = true;
            if (p < n && b[p] != ',' && b[p] != '\n' && b[p] != '\r') {
                *syntax = "a character after the closing quote of a field";
                resync = p;
                goto bad;
            }
        } else {
            size_t s0 = p;
            while (p < limit && !csv_stop[(unsigned char)b[p]])
                p++;
            v = b + s0;
            vn = p - s0;
            if (p == limit && limit < n && !csv_stop[(unsigned char)b[p]]) {
                *syntax = "a record longer than 16384 bytes";
                resync = p;
                goto bad;
            }
            if (p < n && b[p] == '"') {
                *syntax = "a quote inside a field that is not quoted (quote the whole field)";
                resync = p;
                goto bad;
            }
            if (p < n && b[p] == '\0') {
                *syntax = "a NUL byte";
                resync = p;
                goto bad;
            }
            if (p < n && b[p] == '\r' && !(p + 1 < n && b[p + 1] == '\n')) {
                *syntax = "a carriage return not followed by a line feed";
                resync = p;
                goto bad;
            }
        }
        fn(arg, col, v, vn, escaped);
        col++;
        if (p >= n)
            break;
        if (b[p] == ',') {
            p++;
            continue;
        }
        if (b[p] == '\r')
            p++;
        p++; /* the '\n' */
        break;
    }
    r->pos = p;
    r->line += lines;
    *ncols = col;
    return 0;
bad : {
    const char *e = memchr(b + resync, '\n', n - resync);
    size_t np = e ? (size_t)(e - b) + 1 : n;
    int64_t nl = 0;
    for (const char *x = b + start; (x = memchr(x, '\n', (size_t)(b + np - x))); x++)
        nl++;
    r->pos = np;
    r->line += nl;
    *ncols = col;
    return AM_EINVAL;
}
}

/* Removes the quoting of a quoted field ("" is ", CRLF is LF) into out; its length or -1. */
static long csv_unescape(const char *v, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '"' && i + 1 < n && v[i + 1] == '"')
            i++;
        else if (c == '\r' && i + 1 < n && v[i + 1] == '\n')
            continue;
        if (k == outsz)
            return -1;
        out[k++] = c;
    }
    return (long)k;
}

/* Skips lines of blanks at r->pos. False at the end of the input. */
static bool skip_blank_lines(struct records_reader *r)
{
    const char *b = r->buf;
    for (;;) {
        size_t q = r->pos;
        while (q < r->len && (b[q] == ' ' || b[q] == '\t' || b[q] == '\r'))
            q++;
        if (q == r->len) {
            r->pos = r->len;
            return false;
        }
        if (b[q] != '\n')
            return true;
        r->pos = q + 1;
        r->line++;
    }
}

struct header_ctx {
    struct records_reader *r;
    const struct rkind *k;
    struct records_issue *issue;
    int64_t line;
    bool failed;
};

static void header_field(void *arg, int col, const char *v, size_t n, bool escaped)
{
    struct header_ctx *h = arg;
    if (h->failed)
        return;
    if (col >= (int)(sizeof(h->r->columns) / sizeof(h->r->columns[0]))) {
        issue_set(h->issue, h->line, "", "more than %zu columns",
                  sizeof(h->r->columns) / sizeof(h->r->columns[0]));
        h->failed = true;
        return;
    }
    char name[64];
    long len = escaped ? csv_unescape(v, n, name, sizeof(name) - 1) : (long)n;
    if (len < 0 || len > (long)sizeof(name) - 1) {
        issue_set(h->issue, h->line, "", "a column name longer than %zu bytes", sizeof(name) - 1);
        h->failed = true;
        return;
    }
    if (!escaped)
        memcpy(name, v, n);
    name[len] = '\0';
    char *s = name;
    while (*s == ' ' || *s == '\t')
        s++;
    for (long e = (long)strlen(s); e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'); e--)
        s[e - 1] = '\0';
    for (char *x = s; *x; x++)
        if (*x >= 'A' && *x <= 'Z')
            *x = (char)(*x + 32);
    int found = -1;
    for (int i = 0; i < h->k->nfields; i++)
        if (strcmp(h->k->fields[i].name, s) == 0)
            found = i;
    bool printable = am_utf8_valid(s, strlen(s));
    for (char *x = s; printable && *x; x++)
        printable = (unsigned char)*x >= 0x20 && *x != 0x7f;
    if (found < 0) {
        if (!s[0])
            issue_set(h->issue, h->line, "", "column %d has no name", col + 1);
        else if (printable)
            issue_set(h->issue, h->line, "", "unknown column '%.40s' for %s", s, h->k->name);
        else
            issue_set(h->issue, h->line, "", "unknown column %d for %s", col + 1, h->k->name);
        h->failed = true;
        return;
    }
    for (int i = 0; i < col; i++) {
        if (h->r->columns[i] == found) {
            issue_set(h->issue, h->line, "", "column '%s' appears twice", s);
            h->failed = true;
            return;
        }
    }
    h->r->columns[col] = found;
}

/* Reads the header line: 0, or AM_EINVAL (issue set). *eof when the input has no header. */
static int csv_header(struct records_reader *r, struct records_issue *issue, bool *eof)
{
    *eof = false;
    if (!skip_blank_lines(r)) {
        *eof = true;
        return 0;
    }
    struct header_ctx h = {r, &kinds[r->kind], issue, r->line, false};
    const char *syntax = NULL;
    int ncols = 0;
    if (csv_scan(r, header_field, &h, &ncols, &syntax)) {
        issue_set(issue, h.line, "", "header: %s", syntax);
        return AM_EINVAL;
    }
    if (h.failed)
        return AM_EINVAL;
    r->ncolumns = ncols;
    return 0;
}

struct csv_rec {
    struct rec_ctx c;
    const int *columns;
    int ncolumns;
};

static void record_field(void *arg, int col, const char *v, size_t n, bool escaped)
{
    struct csv_rec *cr = arg;
    struct rec_ctx *c = &cr->c;
    if (c->failed || col >= cr->ncolumns)
        return; /* a field past the header's columns: csv_record reports the count */
    const struct rfield *f = &c->k->fields[cr->columns[col]];
    if (escaped) {
        char buf[FIELD_VALUE_MAX];
        long len = csv_unescape(v, n, buf, sizeof(buf));
        if (len < 0) {
            ctx_fail(c, f->name, "longer than %d bytes", FIELD_VALUE_MAX);
            return;
        }
        put_text(c, f, buf, (size_t)len);
    } else {
        put_text(c, f, v, n);
    }
}

static int csv_record(struct records_reader *r, union records_any *out, struct records_issue *issue)
{
    struct csv_rec cr = {
        {&kinds[r->kind], (char *)out, issue, r->line, false, ""}, r->columns, r->ncolumns};
    r->record_line = r->line;
    r->record_pos = r->pos;
    const char *syntax = NULL;
    int ncols = 0;
    if (csv_scan(r, record_field, &cr, &ncols, &syntax)) {
        issue_set(issue, cr.c.line, "", "%s", syntax);
        return AM_EINVAL;
    }
    if (ncols != r->ncolumns) {
        /* Reported first: a misaligned line makes every other reason misleading. */
        cr.c.failed = false;
        ctx_fail(&cr.c, "", "%d fields, where the header has %d columns", ncols, r->ncolumns);
        return AM_EINVAL;
    }
    return record_finish(&cr.c, r->kind, out);
}

/* ------------------------------------------------------------ JSON lines */

static const struct rfield *field_named(const struct rkind *k, const char *name)
{
    for (int i = 0; i < k->nfields; i++)
        if (strcmp(k->fields[i].name, name) == 0)
            return &k->fields[i];
    return NULL;
}

static void json_value(struct rec_ctx *c, const struct rfield *f, json_t *v)
{
    if (json_is_null(v))
        return;
    switch (f->type) {
    case FT_STR:
    case FT_COUNTRY:
        if (!json_is_string(v)) {
            ctx_fail(c, f->name, "must be a string");
            return;
        }
        if (f->type == FT_STR)
            put_str(c, f, json_string_value(v), json_string_length(v));
        else
            put_country(c, f, json_string_value(v), json_string_length(v));
        return;
    case FT_LIST: {
        if (!json_is_array(v)) {
            ctx_fail(c, f->name, "must be an array of strings");
            return;
        }
        if (json_array_size(v) > f->max) {
            ctx_fail(c, f->name, "more than %d items", f->max);
            return;
        }
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item)) {
                ctx_fail(c, f->name, "must be an array of strings");
                return;
            }
            put_item(c, f, (int)i, json_string_value(item), json_string_length(item));
        }
        return;
    }
    case FT_INT:
    case FT_I64:
        if (!json_is_integer(v)) {
            ctx_fail(c, f->name, "must be an integer");
            return;
        }
        put_int(c, f, (int64_t)json_integer_value(v));
        return;
    }
}

static int jsonl_record(struct records_reader *r, union records_any *out,
                        struct records_issue *issue)
{
    const char *b = r->buf;
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        const char *s = b + r->pos;
        const char *e = memchr(s, '\n', r->len - r->pos);
        size_t n = e ? (size_t)(e - s) : r->len - r->pos;
        int64_t line = r->line;
        r->record_line = line;
        r->record_pos = r->pos;
        r->pos += n + (e ? 1 : 0);
        r->line++;
        if (n && s[n - 1] == '\r')
            n--;
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n)
            continue;
        if (n > RECORDS_LINE_MAX) {
            issue_set(issue, line, "", "a line longer than %d bytes", RECORDS_LINE_MAX);
            return AM_EINVAL;
        }
        if (!am_utf8_valid(s, n)) {
            issue_set(issue, line, "", "the line is not valid UTF-8 (or holds a NUL byte)");
            return AM_EINVAL;
        }
        /*
         * jansson itself refuses NUL (\u0000) and keeps its nesting under
         * JSON_PARSER_MAX_DEPTH; a line is one object, so "line 1" of its
         * error is said as a column of the input's line.
         */
        json_error_t err;
        json_t *obj = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
        if (!obj) {
            if (strstr(err.text, "\\u0000"))
                issue_set(issue, line, "", "a NUL character (\\u0000) in a string");
            else
                issue_set(issue, line, "", "malformed JSON at column %d: %s", err.column, err.text);
            return AM_EINVAL;
        }
        if (!json_is_object(obj)) {
            json_decref(obj);
            issue_set(issue, line, "", "a JSON object was expected");
            return AM_EINVAL;
        }
        const struct rkind *k = &kinds[r->kind];
        struct rec_ctx c = {k, (char *)out, issue, line, false, ""};
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            const struct rfield *f = field_named(k, key);
            if (!f) {
                bool printable = strlen(key) <= 40;
                for (const char *x = key; printable && *x; x++)
                    printable = (unsigned char)*x >= 0x20 && *x != 0x7f;
                if (printable)
                    ctx_fail(&c, "", "unknown field '%s' for %s", key, k->name);
                else
                    ctx_fail(&c, "", "an unknown field for %s", k->name);
                break;
            }
            json_value(&c, f, v);
            if (c.failed)
                break;
        }
        json_decref(obj);
        return record_finish(&c, r->kind, out);
    }
}

/* ------------------------------------------------------------ the reader */

void records_reader_init(struct records_reader *r, enum records_kind kind,
                         enum records_format format, const char *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->format = format;
    r->buf = buf;
    r->len = len;
    r->line = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    for (size_t i = 0; i < sizeof(r->columns) / sizeof(r->columns[0]); i++)
        r->columns[i] = -1;
}

int records_reader_next(struct records_reader *r, union records_any *out,
                        struct records_issue *issue)
{
    memset(issue, 0, sizeof(*issue));
    memset(out, 0, sizeof(*out));
    if ((unsigned)r->kind >= sizeof(kinds) / sizeof(kinds[0]) ||
        (r->format != RECORDS_CSV && r->format != RECORDS_JSONL)) {
        /* Said once, then the end: a loop until 0 must end. */
        if (r->pos >= r->len)
            return 0;
        r->pos = r->len;
        issue_set(issue, r->line, "", "no such kind or format of records");
        return AM_EINVAL;
    }
    if (r->format == RECORDS_JSONL)
        return jsonl_record(r, out, issue);
    if (r->header_done < 0)
        return 0;
    if (!r->header_done) {
        bool eof;
        if (csv_header(r, issue, &eof)) {
            r->header_done = -1;
            return AM_EINVAL;
        }
        if (eof)
            return 0;
        r->header_done = 1;
    }
    if (!skip_blank_lines(r))
        return 0;
    return csv_record(r, out, issue);
}

/* ------------------------------------------------------------ writers */

/* The string of field f in rec, with its length; AM_EINVAL if it does not end in its array. */
static int field_str(const char *p, size_t size, size_t *n)
{
    const char *e = memchr(p, '\0', size);
    if (!e)
        return AM_EINVAL;
    *n = (size_t)(e - p);
    return 0;
}

static int csv_put(struct am_buf *out, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return am_buf_append(out, s, n);
    int rc = am_buf_append(out, "\"", 1);
    for (size_t i = 0; !rc && i < n;) {
        const char *q = memchr(s + i, '"', n - i);
        size_t seg = q ? (size_t)(q - s) - i + 1 : n - i;
        rc = am_buf_append(out, s + i, seg);
        if (!rc && q)
            rc = am_buf_append(out, "\"", 1);
        i += seg;
    }
    if (!rc)
        rc = am_buf_append(out, "\"", 1);
    return rc;
}

static int json_put(struct am_buf *out, const char *s, size_t n)
{
    if (!am_utf8_valid(s, n))
        return AM_EINVAL;
    int rc = am_buf_append(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = am_buf_append(out, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            memcpy(esc, "\\\"", 3);
            break;
        case '\\':
            memcpy(esc, "\\\\", 3);
            break;
        case '\n':
            memcpy(esc, "\\n", 3);
            break;
        case '\r':
            memcpy(esc, "\\r", 3);
            break;
        case '\t':
            memcpy(esc, "\\t", 3);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            break;
        }
        if (!rc)
            rc = am_buf_append(out, esc, strlen(esc));
    }
    if (!rc)
        rc = am_buf_append(out, s + run, n - run);
    if (!rc)
        rc = am_buf_append(out, "\"", 1);
    return rc;
}

int records_write_header(struct am_buf *out, enum records_kind kind)
{
    if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
        return AM_EINVAL;
    const struct rkind *k = &kinds[kind];
    int rc = 0;
    bool first = true;
    for (int i = 0; !rc && i < k->nfields; i++) {
        if (k->fields[i].type == FT_COUNTRY)
            continue;
        if (!first)
            rc = am_buf_append(out, ",", 1);
        first = false;
        if (!rc)
            rc = am_buf_append(out, k->fields[i].name, strlen(k->fields[i].name));
    }
    if (!rc)
        rc = am_buf_append(out, "\n", 1);
    return rc;
}

/* A list's items joined by ';' into buf; its length, or -1 if an item does not end. */
static long list_join(const char *rec, const struct rfield *f, char *buf, size_t bufsz, int *count)
{
    int cnt;
    memcpy(&cnt, rec + f->count_off, sizeof(cnt));
    if (cnt < 0 || cnt > f->max)
        return -1;
    *count = cnt;
    size_t k = 0;
    for (int i = 0; i < cnt; i++) {
        size_t n;
        if (field_str(rec + f->off + (size_t)i * f->size, f->size, &n) || k + n + 1 > bufsz)
            return -1;
        if (i)
            buf[k++] = ';';
        memcpy(buf + k, rec + f->off + (size_t)i * f->size, n);
        k += n;
    }
    return (long)k;
}

static int64_t field_int(const char *rec, const struct rfield *f)
{
    if (f->type == FT_INT) {
        int v;
        memcpy(&v, rec + f->off, sizeof(v));
        return v;
    }
    int64_t v;
    memcpy(&v, rec + f->off, sizeof(v));
    return v;
}

static int write_csv(struct am_buf *out, const struct rkind *k, const char *rec)
{
    int rc = 0;
    bool first = true;
    for (int i = 0; !rc && i < k->nfields; i++) {
        const struct rfield *f = &k->fields[i];
        if (f->type == FT_COUNTRY)
            continue;
        if (!first)
            rc = am_buf_append(out, ",", 1);
        first = false;
        if (rc)
            break;
        size_t n;
        switch (f->type) {
        case FT_STR:
            rc = field_str(rec + f->off, f->size, &n);
            if (!rc)
                rc = csv_put(out, rec + f->off, n);
            break;
        case FT_LIST: {
            char buf[FIELD_VALUE_MAX];
            int cnt;
            long len = list_join(rec, f, buf, sizeof(buf), &cnt);
            rc = len < 0 ? AM_EINVAL : csv_put(out, buf, (size_t)len);
            break;
        }
        case FT_INT:
        case FT_I64: {
            int64_t v = field_int(rec, f);
            if (v)
                rc = am_buf_printf(out, "%lld", (long long)v);
            break;
        }
        case FT_COUNTRY:
            break;
        }
    }
    if (!rc)
        rc = am_buf_append(out, "\n", 1);
    return rc;
}

static int write_jsonl(struct am_buf *out, const struct rkind *k, const char *rec)
{
    int rc = am_buf_append(out, "{", 1);
    bool first = true;
    for (int i = 0; !rc && i < k->nfields; i++) {
        const struct rfield *f = &k->fields[i];
        size_t n = 0;
        int64_t v = 0;
        int cnt = 0;
        switch (f->type) {
        case FT_STR:
            if (field_str(rec + f->off, f->size, &n))
                return AM_EINVAL;
            if (!n)
                continue;
            break;
        case FT_LIST:
            memcpy(&cnt, rec + f->count_off, sizeof(cnt));
            if (cnt < 0 || cnt > f->max)
                return AM_EINVAL;
            if (!cnt)
                continue;
            break;
        case FT_INT:
        case FT_I64:
            v = field_int(rec, f);
            if (!v)
                continue;
            break;
        case FT_COUNTRY:
            continue;
        }
        if (!first)
            rc = am_buf_append(out, ",", 1);
        first = false;
        if (!rc)
            rc = am_buf_printf(out, "\"%s\":", f->name);
        if (rc)
            break;
        if (f->type == FT_STR) {
            rc = json_put(out, rec + f->off, n);
        } else if (f->type == FT_LIST) {
            rc = am_buf_append(out, "[", 1);
            for (int j = 0; !rc && j < cnt; j++) {
                const char *item = rec + f->off + (size_t)j * f->size;
                if (field_str(item, f->size, &n))
                    return AM_EINVAL;
                if (j)
                    rc = am_buf_append(out, ",", 1);
                if (!rc)
                    rc = json_put(out, item, n);
            }
            if (!rc)
                rc = am_buf_append(out, "]", 1);
        } else {
            rc = am_buf_printf(out, "%lld", (long long)v);
        }
    }
    if (!rc)
        rc = am_buf_append(out, "}\n", 2);
    return rc;
}

int records_write(struct am_buf *out, enum records_kind kind, enum records_format format,
                  const union records_any *rec)
{
    if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
        return AM_EINVAL;
    size_t mark = out->len;
    int rc = format == RECORDS_CSV ? write_csv(out, &kinds[kind], (const char *)rec)
                                   : write_jsonl(out, &kinds[kind], (const char *)rec);
    if (rc) {
        /* Nothing of a record that could not be written stays in the buffer. */
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
