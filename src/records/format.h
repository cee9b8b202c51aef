/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * format.h - private to src/records: reading and writing records as CSV
 * (RFC 4180, a header line naming the columns) and as JSON lines (one
 * object per line), for bulk import and export. The field names are the
 * same in both (docs/records.md); list fields (aliases, addresses, phones)
 * are JSON arrays in JSON lines and ';'-separated in CSV.
 *
 * A reader walks a buffer (a mapped file or a request body) record by
 * record; every problem is reported with its line, field and reason, and
 * the reader goes on with the next record, so one pass gives the whole
 * validation report. Readers are pure: no I/O, bounded, fuzzed
 * (tests/fuzz/fuzz_records_import.c).
 */
#ifndef AM_RECORDS_FORMAT_H
#define AM_RECORDS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "records/records.h"

/* enum records_kind and enum records_format are in records.h. */

#define RECORDS_LINE_MAX 16384 /* bytes of one record's line; longer is an issue */

/* A problem found in the input. */
struct records_issue {
    int64_t line;   /* 1-based line of the input (CSV: where the record starts) */
    char field[24]; /* the field, or "" for the line as a whole */
    char why[160];
};

/* One record of any kind. */
union records_any {
    struct records_person person;
    struct records_vehicle vehicle;
    struct records_hotlist hotlist;
};

struct records_reader {
    enum records_kind kind;
    enum records_format format;
    const char *buf;
    size_t len, pos;
    int64_t line;        /* the next line to read */
    int64_t record_line; /* where the last record read began */
    size_t record_pos;   /* the same, as an offset in buf: a reader set there reads it again */
    /* CSV: which field each column holds (-1 unknown), from the header. */
    int columns[64];
    int ncolumns;
    int header_done;
};

/* Starts reading `buf` (not copied; must outlive the reader). */
void records_reader_init(struct records_reader *r, enum records_kind kind,
                         enum records_format format, const char *buf, size_t len);
/*
 * Reads the next record into *out, parsed and checked (records_*_check).
 * Returns 1 for a good record, 0 at the end of the input, or AM_EINVAL for
 * a bad record or header (issue filled; the next call goes on after it).
 * Blank lines are skipped. A bad CSV header is reported once and ends the
 * input (0 next). *out is zeroed first (id 0) and its strings zero-filled
 * past their end, so records read compare with memcmp. Every call moves
 * r->pos forward or returns 0: a loop until 0 ends. (format.c has the rules
 * of both formats.)
 */
int records_reader_next(struct records_reader *r, union records_any *out,
                        struct records_issue *issue);

/* Parses "persons", "vehicles" or "hotlist"; "csv" or "jsonl". AM_EINVAL otherwise. */
int records_kind_parse(const char *s, enum records_kind *out);
int records_format_parse(const char *s, enum records_format *out);
/* "persons", "vehicles" or "hotlist"; NULL for another value. */
const char *records_kind_name(enum records_kind kind);

/* Appends the CSV header line for `kind` (with its newline) to `out`. */
int records_write_header(struct am_buf *out, enum records_kind kind);
/*
 * Appends one record as a line (CSV or JSON lines, newline included) to
 * `out`; what records_reader_next reads back identically (ids are not
 * written) when the record passed its check. AM_EINVAL (nothing appended)
 * for a string that does not end within its array, a list count out of
 * range or, in JSON lines, invalid UTF-8; AM_ENOMEM, AM_ETOOBIG from `out`.
 */
int records_write(struct am_buf *out, enum records_kind kind, enum records_format format,
                  const union records_any *rec);

#endif
