/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_records.c - `amane records`: bulk import and export of persons,
 * vehicles and hotlist entries (CSV or JSON lines), and synthetic records
 * for tests, the demo and benchmarks.
 *
 * An import reads the whole file first and writes nothing if any record is
 * bad (the report lists line, field and reason); otherwise every row goes
 * in one transaction. A running amaned picks the rows up from the event
 * the import appends. An export is a read like any other: it needs a reason
 * and is written to the access log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli.h"
#include "records/generate.h"
#include "records/records.h"

static int usage(void)
{
    fputs("usage: amane records import FILE --kind persons|vehicles|hotlist [--format csv|jsonl]\n"
          "                            [--dry-run]\n"
          "       amane records export --kind K --format csv|jsonl --reason TEXT [--ref REF]\n"
          "                            [--out FILE]\n"
          "       amane records generate --out DIR [--persons N] [--vehicles N] [--hotlist N]\n"
          "                            [--seed S] [--format csv|jsonl]\n",
          stderr);
    return 2;
}

/* The format a file's name suggests: .csv or .jsonl/.ndjson. */
static int format_of(const char *path, const char *given, enum records_format *out)
{
    if (given)
        return records_format_parse(given, out);
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".csv") == 0)
        *out = RECORDS_CSV;
    else if (dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0))
        *out = RECORDS_JSONL;
    else
        return AM_EINVAL;
    return 0;
}

static int cmd_import(struct app *a, int argc, char **argv)
{
    const char *file = NULL, *kind_s = NULL, *format_s = NULL;
    bool dry = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            kind_s = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format_s = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry = true;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage();
    }
    enum records_kind kind;
    enum records_format format;
    if (!file || !kind_s || records_kind_parse(kind_s, &kind))
        return usage();
    if (format_of(file, format_s, &format))
        return cli_fail("say --format csv or jsonl: '%s' does not end in .csv or .jsonl", file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0)
            close(fd);
        return cli_fail("cannot open '%s': %s", file, strerror(errno));
    }
    const char *buf = "";
    void *map = NULL;
    if (sb.st_size > 0) {
        /*
         * Read twice: once in order (the check), then each record again in
         * the order of its key (records_import): mapped whole from the start,
         * so that the second reading finds every page in place.
         */
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return cli_fail("cannot read '%s': %s", file, strerror(errno));
        }
        buf = map;
    }
    close(fd);
    int64_t t0 = am_now_us();
    struct records_import_result res;
    int rc =
        records_import(a->store, cli_actor(), kind, format, buf, (size_t)sb.st_size, dry, &res);
    double s = (double)(am_now_us() - t0) / 1e6;
    if (map)
        munmap(map, (size_t)sb.st_size);
    if (rc == AM_EINVAL) {
        for (size_t i = 0; i < json_array_size(res.issues); i++) {
            json_t *is = json_array_get(res.issues, i);
            const char *field = json_string_value(json_object_get(is, "field"));
            fprintf(stderr, "%s:%lld: %s%s%s\n", file,
                    (long long)json_integer_value(json_object_get(is, "line")), field ? field : "",
                    field && *field ? ": " : "", json_string_value(json_object_get(is, "why")));
        }
        if (res.bad > (int64_t)json_array_size(res.issues))
            fprintf(stderr, "... and %lld more\n",
                    (long long)(res.bad - (int64_t)json_array_size(res.issues)));
        json_decref(res.issues);
        return cli_fail("%lld bad record(s) of %lld: nothing imported", (long long)res.bad,
                        (long long)(res.records + res.bad));
    }
    json_decref(res.issues);
    if (rc)
        return cli_fail("cannot import '%s': %s", file, am_strerror(rc));
    if (dry)
        printf("%lld %s checked, all good (nothing written)\n", (long long)res.records, kind_s);
    else
        printf("imported %lld %s in %.1f s (%.0f records/s), sha256 %s\n", (long long)res.imported,
               kind_s, s, s > 0 ? (double)res.imported / s : 0.0, res.sha256);
    return 0;
}

struct file_out {
    FILE *f;
};

static int flush_file(void *arg, struct am_buf *out)
{
    struct file_out *o = arg;
    if (out->len && fwrite(out->data, 1, out->len, o->f) != out->len)
        return AM_EIO;
    out->len = 0;
    return 0;
}

static int cmd_export(struct app *a, int argc, char **argv)
{
    const char *kind_s = NULL, *format_s = NULL, *reason = NULL, *ref = NULL, *out = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--kind") == 0)
            kind_s = argv[i + 1];
        else if (strcmp(argv[i], "--format") == 0)
            format_s = argv[i + 1];
        else if (strcmp(argv[i], "--reason") == 0)
            reason = argv[i + 1];
        else if (strcmp(argv[i], "--ref") == 0)
            ref = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else
            return usage();
    }
    enum records_kind kind;
    enum records_format format;
    if (argc % 2 || !kind_s || records_kind_parse(kind_s, &kind) || !format_s ||
        records_format_parse(format_s, &format))
        return usage();
    json_t *query = json_pack("{ss ss}", "kind", kind_s, "format", format_s);
    int rc = records_log_read(a->store, cli_actor(), "admin", reason, ref, "export", query, NULL);
    json_decref(query);
    if (rc == AM_EINVAL)
        return cli_fail("an export is a read: give --reason (3 to 199 bytes) and, if there is "
                        "one, --ref with the case number");
    if (rc)
        return cli_fail("cannot log the export: %s", am_strerror(rc));
    struct file_out o = {stdout};
    if (out && strcmp(out, "-") && !(o.f = fopen(out, "we")))
        return cli_fail("cannot create '%s': %s", out, strerror(errno));
    struct am_buf b;
    am_buf_init(&b, 0);
    int64_t count = 0;
    rc = records_export(a->store, kind, format, &b, flush_file, &o, &count);
    am_buf_release(&b);
    if (o.f != stdout && fclose(o.f) && !rc)
        rc = AM_EIO;
    if (rc)
        return cli_fail("cannot export: %s", am_strerror(rc));
    fprintf(stderr, "exported %lld %s\n", (long long)count, kind_s);
    return 0;
}

/* Writes `n` generated records of one kind to DIR/<kind>.<ext>. */
static int generate_file(struct records_gen *g, const char *dir, enum records_kind kind,
                         enum records_format format, int64_t n, int64_t persons, int64_t vehicles)
{
    static const char *const names[] = {"persons", "vehicles", "hotlist"};
    char path[1100];
    snprintf(path, sizeof(path), "%s/%s.%s", dir, names[kind],
             format == RECORDS_CSV ? "csv" : "jsonl");
    struct file_out o = {fopen(path, "we")};
    if (!o.f)
        return cli_fail("cannot create '%s': %s", path, strerror(errno));
    union records_any *rec = calloc(1, sizeof(*rec));
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = rec ? 0 : AM_ENOMEM;
    if (!rc && format == RECORDS_CSV)
        rc = records_write_header(&b, kind);
    for (int64_t i = 0; !rc && i < n; i++) {
        if (kind == RECORDS_PERSONS)
            records_gen_person(g, &rec->person);
        else if (kind == RECORDS_VEHICLES)
            records_gen_vehicle(g, persons, &rec->vehicle);
        else
            records_gen_hotlist(g, persons, vehicles, &rec->hotlist);
        rc = records_write(&b, kind, format, rec);
        if (!rc && b.len > (1u << 20))
            rc = flush_file(&o, &b);
    }
    if (!rc)
        rc = flush_file(&o, &b);
    am_buf_release(&b);
    free(rec);
    if (fclose(o.f) && !rc)
        rc = AM_EIO;
    if (rc)
        return cli_fail("cannot write '%s': %s", path, am_strerror(rc));
    fprintf(stderr, "wrote %lld %s to %s\n", (long long)n, names[kind], path);
    return 0;
}

int cli_records_generate(struct app *a, int argc, char **argv)
{
    (void)a;
    const char *dir = NULL, *format_s = "jsonl";
    int64_t persons = 1000, vehicles = 500, hotlist = 50, seed = 1;
    for (int i = 0; i + 1 < argc; i += 2) {
        int bad = 0;
        if (strcmp(argv[i], "--out") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--format") == 0)
            format_s = argv[i + 1];
        else if (strcmp(argv[i], "--persons") == 0)
            bad = am_parse_i64(argv[i + 1], 0, 100000000, &persons);
        else if (strcmp(argv[i], "--vehicles") == 0)
            bad = am_parse_i64(argv[i + 1], 0, 100000000, &vehicles);
        else if (strcmp(argv[i], "--hotlist") == 0)
            bad = am_parse_i64(argv[i + 1], 0, 10000000, &hotlist);
        else if (strcmp(argv[i], "--seed") == 0)
            bad = am_parse_i64(argv[i + 1], 0, INT64_MAX, &seed);
        else
            return usage();
        if (bad)
            return cli_fail("%s takes a whole number (persons and vehicles up to 100,000,000)",
                            argv[i]);
    }
    enum records_format format;
    if (argc % 2 || !dir || records_format_parse(format_s, &format))
        return usage();
    if (mkdir(dir, 0750) && errno != EEXIST)
        return cli_fail("cannot create '%s': %s", dir, strerror(errno));
    if (hotlist && !persons && !vehicles)
        return cli_fail("hotlist entries name generated persons or vehicles: give some");
    /* One generator per kind, so that each file is the same whatever the others' sizes. */
    struct records_gen g;
    records_gen_init(&g, (uint64_t)seed);
    int code = generate_file(&g, dir, RECORDS_PERSONS, format, persons, persons, vehicles);
    records_gen_init(&g, (uint64_t)seed);
    if (!code)
        code = generate_file(&g, dir, RECORDS_VEHICLES, format, vehicles, persons, vehicles);
    records_gen_init(&g, (uint64_t)seed);
    if (!code)
        code = generate_file(&g, dir, RECORDS_HOTLIST, format, hotlist, persons, vehicles);
    return code;
}

int cli_records(struct app *a, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    if (strcmp(argv[0], "import") == 0)
        return cmd_import(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "export") == 0)
        return cmd_export(a, argc - 1, argv + 1);
    return usage();
}
