/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_records_import.c - fuzzes the import readers of the records module
 * (format.c) and the checks behind them (check.c). The first byte chooses
 * the kind (persons, vehicles, hotlist) and the format (CSV, JSON lines):
 * byte % 3 and (byte / 3) % 2; the rest is the input, any bytes.
 *
 * The reader must end: every call moves forward or returns 0, and returns
 * only 1, 0 or AM_EINVAL, with an issue whose field and reason end within
 * their arrays and whose line is within the input. Every record read must
 * pass its check again unchanged (checks are idempotent), and written back
 * by records_write (after records_write_header for CSV) it must read back
 * as exactly the same record, then the end. Any failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "records/format.h"
#include "records/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_records_import: %s\n", what);
    abort();
}

static int check_again(enum records_kind kind, union records_any *r)
{
    char field[24], why[160];
    switch (kind) {
    case RECORDS_PERSONS:
        return records_person_check(&r->person, field, why, sizeof(why));
    case RECORDS_VEHICLES:
        return records_vehicle_check(&r->vehicle, field, why, sizeof(why));
    case RECORDS_HOTLIST:
        return records_hotlist_check(&r->hotlist, field, why, sizeof(why));
    }
    return AM_EINVAL;
}

static void round_trip(enum records_kind kind, enum records_format format,
                       const union records_any *rec)
{
    union records_any copy;
    memcpy(&copy, rec, sizeof(copy));
    if (check_again(kind, &copy) || memcmp(&copy, rec, sizeof(copy)) != 0)
        fail("a record read does not pass its check unchanged");
    struct am_buf out;
    am_buf_init(&out, 0);
    if (format == RECORDS_CSV && records_write_header(&out, kind))
        fail("cannot write the header");
    if (records_write(&out, kind, format, rec))
        fail("cannot write a record read");
    struct records_reader r;
    records_reader_init(&r, kind, format, out.data, out.len);
    union records_any back;
    struct records_issue is;
    int rc = records_reader_next(&r, &back, &is);
    if (rc != 1) {
        fprintf(stderr, "written: %.*s\nissue: line %lld %s: %s\n", (int)out.len, out.data,
                (long long)is.line, is.field, is.why);
        fail("a record written does not read back");
    }
    if (memcmp(&back, rec, sizeof(back)) != 0)
        fail("a record written reads back different");
    if (records_reader_next(&r, &back, &is) != 0)
        fail("more than one record read back");
    am_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum records_kind kind = (enum records_kind)(data[0] % 3);
    enum records_format format = (enum records_format)((data[0] / 3) % 2);
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;

    struct records_reader r;
    records_reader_init(&r, kind, format, buf, len);
    size_t calls = 0;
    for (;;) {
        union records_any rec;
        struct records_issue is;
        size_t before = r.pos;
        int rc = records_reader_next(&r, &rec, &is);
        if (rc == 0)
            break;
        if (++calls > len + 2 || r.pos <= before || r.pos > len)
            fail("the reader does not move forward");
        if (rc == 1) {
            round_trip(kind, format, &rec);
        } else if (rc == AM_EINVAL) {
            if (!memchr(is.field, '\0', sizeof(is.field)) || !memchr(is.why, '\0', sizeof(is.why)))
                fail("an issue not terminated");
            if (!is.why[0] || is.line < 1 || is.line > (int64_t)len + 1)
                fail("an issue without a reason or with a line out of the input");
        } else {
            fail("records_reader_next returned an unexpected code");
        }
    }
    union records_any rec;
    struct records_issue is;
    if (records_reader_next(&r, &rec, &is) != 0)
        fail("the reader starts again after its end");
    return 0;
}
