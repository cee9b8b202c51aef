/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_cad.c - `amane incident open|list|show|note|close` and
 * `amane unit add|list|status`: the dispatch operations from a shell,
 * through the same operations (and rules) as the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"

/* Flags "--name value" into a JSON object; a flag may be listed in `numbers`. */
struct flag {
    const char *flag; /* "--type" */
    const char *path; /* "type" or "caller.name" */
    char kind;        /* 's' string, 'i' integer, 'd' number, 'l' comma list */
};

static int set_path(json_t *obj, const char *path, json_t *v)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return json_object_set_new(obj, path, v);
    char head[32];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof(head)) {
        json_decref(v);
        return -1;
    }
    memcpy(head, path, n);
    head[n] = '\0';
    json_t *child = json_object_get(obj, head);
    if (!child) {
        child = json_object();
        json_object_set_new(obj, head, child);
    }
    return set_path(child, dot + 1, v);
}

/* Parses argv against `flags`; positional arguments go to *target. Returns 0, or 2 (usage). */
static int parse_flags(int argc, char **argv, const struct flag *flags, json_t *out,
                       const char **target)
{
    for (int i = 0; i < argc; i++) {
        const struct flag *f = NULL;
        for (const struct flag *g = flags; g->flag; g++)
            if (!strcmp(argv[i], g->flag))
                f = g;
        if (!f) {
            if (argv[i][0] == '-' || !target || *target) {
                cli_fail("unexpected argument '%s'", argv[i]);
                return 2;
            }
            *target = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            cli_fail("%s needs a value", f->flag);
            return 2;
        }
        const char *v = argv[++i];
        json_t *jv = NULL;
        if (f->kind == 's') {
            jv = json_string(v);
        } else if (f->kind == 'i') {
            int64_t n;
            if (am_parse_i64(v, INT32_MIN, INT32_MAX, &n)) {
                cli_fail("%s: '%s' is not an integer", f->flag, v);
                return 2;
            }
            jv = json_integer(n);
        } else if (f->kind == 'd') {
            char *end;
            double d = strtod(v, &end);
            if (end == v || *end) {
                cli_fail("%s: '%s' is not a number", f->flag, v);
                return 2;
            }
            jv = json_real(d);
        } else {
            jv = json_array();
            const char *p = v;
            while (*p) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                json_array_append_new(jv, json_stringn(p, n));
                p += n + (comma ? 1 : 0);
            }
        }
        if (!jv || set_path(out, f->path, jv)) {
            cli_fail("%s: invalid value", f->flag);
            return 2;
        }
    }
    return 0;
}

static int run(struct app *a, enum cad_op op, const char *target, json_t *req, bool print_json)
{
    char why[300];
    json_t *ans = NULL;
    int rc = cad_run(a->cad, op, cli_actor(), target, req, &ans, NULL, why, sizeof(why));
    json_decref(req);
    if (rc)
        return cli_fail("%s", why);
    if (print_json) {
        json_dumpf(ans, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else if (json_object_get(ans, "number")) {
        printf("%s %s\n", json_string_value(json_object_get(ans, "number")),
               json_string_value(json_object_get(ans, "status")));
    } else {
        printf("%s %s\n", json_string_value(json_object_get(ans, "callsign")),
               json_string_value(json_object_get(ans, "status")));
    }
    json_decref(ans);
    return 0;
}

static void print_incident_line(json_t *i)
{
    json_t *loc = json_object_get(i, "location");
    const char *addr = json_string_value(json_object_get(loc, "address"));
    printf("%-16s %-10s P%lld %-18s %s\n", json_string_value(json_object_get(i, "number")),
           json_string_value(json_object_get(i, "status")),
           (long long)json_integer_value(json_object_get(i, "priority")),
           json_string_value(json_object_get(i, "type")), addr ? addr : "");
}

int cli_incident(struct app *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_fail("usage: amane incident open|list|show|note|close ...") + 1;
    const char *sub = argv[0];
    argc--;
    argv++;
    const char *target = NULL;
    json_t *req = json_object();
    int rc = 0;
    if (!strcmp(sub, "open")) {
        static const struct flag f[] = {{"--type", "type", 's'},
                                        {"--priority", "priority", 'i'},
                                        {"--caller", "caller.name", 's'},
                                        {"--phone", "caller.phone", 's'},
                                        {"--lat", "location.lat", 'd'},
                                        {"--lon", "location.lon", 'd'},
                                        {"--address", "location.address", 's'},
                                        {"--narrative", "narrative", 's'},
                                        {NULL, NULL, 0}};
        rc = parse_flags(argc, argv, f, req, NULL);
        return rc ? (json_decref(req), rc) : run(a, CAD_INCIDENT_OPEN, NULL, req, false);
    }
    if (!strcmp(sub, "note")) {
        static const struct flag f[] = {{"--text", "text", 's'}, {NULL, NULL, 0}};
        rc = parse_flags(argc, argv, f, req, &target);
        if (!rc && !target)
            rc = cli_fail("usage: amane incident note NUMBER --text TEXT") + 1;
        return rc ? (json_decref(req), rc) : run(a, CAD_INCIDENT_NOTE, target, req, false);
    }
    if (!strcmp(sub, "close")) {
        static const struct flag f[] = {{"--disposition", "disposition", 's'}, {NULL, NULL, 0}};
        rc = parse_flags(argc, argv, f, req, &target);
        if (!rc && !target)
            rc = cli_fail("usage: amane incident close NUMBER --disposition D") + 1;
        return rc ? (json_decref(req), rc) : run(a, CAD_INCIDENT_CLOSE, target, req, false);
    }
    json_decref(req);
    if (!strcmp(sub, "show")) {
        if (argc != 1)
            return cli_fail("usage: amane incident show NUMBER") + 1;
        json_t *inc;
        rc = cad_incident_get(a->cad, argv[0], &inc);
        if (rc == AM_ENOTFOUND)
            return cli_fail("no incident %s", argv[0]);
        if (rc)
            return cli_fail("cannot read %s: %s", argv[0], am_strerror(rc));
        json_dumpf(inc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(inc);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        const char *status = argc >= 2 && !strcmp(argv[0], "--status") ? argv[1] : "open";
        if (argc != 0 && argc != 2)
            return cli_fail("usage: amane incident list [--status open|closed|all]") + 1;
        json_t *items;
        rc = cad_incident_list(a->cad, status, 1000, &items);
        if (rc)
            return cli_fail("cannot list incidents: %s", am_strerror(rc));
        size_t i;
        json_t *v;
        json_array_foreach(items, i, v) print_incident_line(v);
        json_decref(items);
        return 0;
    }
    return cli_fail("'incident %s' is not a command", sub) + 1;
}

int cli_unit(struct app *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_fail("usage: amane unit add|list|status ...") + 1;
    const char *sub = argv[0];
    argc--;
    argv++;
    const char *target = NULL;
    if (!strcmp(sub, "list")) {
        json_t *items;
        int rc = cad_unit_list(a->cad, &items);
        if (rc)
            return cli_fail("cannot list units: %s", am_strerror(rc));
        size_t i;
        json_t *u;
        json_array_foreach(items, i, u)
        {
            const char *inc = json_string_value(json_object_get(u, "incident"));
            printf("%-14s %-16s %-14s %s\n", json_string_value(json_object_get(u, "callsign")),
                   json_string_value(json_object_get(u, "kind")),
                   json_string_value(json_object_get(u, "status")), inc ? inc : "");
        }
        json_decref(items);
        return 0;
    }
    json_t *req = json_object();
    int rc;
    if (!strcmp(sub, "add")) {
        static const struct flag f[] = {{"--kind", "kind", 's'},
                                        {"--capabilities", "capabilities", 'l'},
                                        {"--crew", "crew", 'l'},
                                        {"--sector", "home_sector", 's'},
                                        {NULL, NULL, 0}};
        rc = parse_flags(argc, argv, f, req, &target);
        if (!rc && !target)
            rc = cli_fail("usage: amane unit add CALLSIGN --kind KIND [--capabilities a,b] "
                          "[--crew x,y] [--sector CODE]") +
                 1;
        if (!rc)
            json_object_set_new(req, "callsign", json_string(target));
        return rc ? (json_decref(req), rc) : run(a, CAD_UNIT_ADD, NULL, req, false);
    }
    if (!strcmp(sub, "status")) {
        static const struct flag f[] = {{"--reason", "override_reason", 's'}, {NULL, NULL, 0}};
        const char *status = argc >= 2 ? argv[1] : NULL;
        if (argc >= 2) {
            target = argv[0];
            rc = parse_flags(argc - 2, argv + 2, f, req, NULL);
        } else {
            rc = cli_fail("usage: amane unit status CALLSIGN STATUS [--reason TEXT]") + 1;
        }
        if (!rc)
            json_object_set_new(req, "status", json_string(status));
        return rc ? (json_decref(req), rc) : run(a, CAD_UNIT_STATUS, target, req, false);
    }
    json_decref(req);
    return cli_fail("'unit %s' is not a command", sub) + 1;
}
