/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_eido.c - fuzzes the EIDO importer, cad_eido_import(), the parser that
 * reads incidents handed over by other command centres. It asserts that a
 * refusal is AM_EINVAL with a reason that is one line of printable ASCII
 * (safe in a log line and in a problem+json body) and leaves the result zeroed;
 * that an accepted document gives what the header promises: strings
 * terminated within their arrays, valid UTF-8 without control characters
 * (the narrative may hold '\n'), a plausible phone number, a priority of
 * 0 to 4, finite coordinates in range, a type code, the sending agency and
 * the incident's number. Then, for each accepted document, it rebuilds an
 * incident from the result, exports it with cad_eido_export() and imports
 * that again: the second reading must give the same fields (coordinates to
 * 1e-6 degree), so whatever we accept we can also pass on. Any failed check
 * is abort(), a real bug.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cad/exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_eido: %s: %s\n", what, detail ? detail : "");
    abort();
}

/* The field is NUL-terminated within its array, UTF-8, without control characters. */
static void check_text(const char *field, const char *s, size_t sz, int allow_newline)
{
    const char *nul = memchr(s, '\0', sz);
    if (!nul)
        fail("field not terminated", field);
    size_t n = (size_t)(nul - s);
    if (!am_utf8_valid(s, n))
        fail("field not UTF-8", field);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_newline && c == '\n')) || c == 0x7f)
            fail("control character in field", field);
        /* C1 controls, U+0080 to U+009F, are 0xC2 0x80-0x9F in UTF-8. */
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            fail("C1 control character in field", field);
    }
}

static void check_result(const struct cad_incident_import *in)
{
#define TEXT(f, nl) check_text(#f, in->f, sizeof(in->f), nl)
    TEXT(type, 0);
    TEXT(caller_name, 0);
    TEXT(caller_phone, 0);
    TEXT(address, 0);
    TEXT(narrative, 1);
    TEXT(remote_number, 0);
    TEXT(remote_agency, 0);
#undef TEXT
    if (!in->type[0] || !in->remote_number[0] || !in->remote_agency[0])
        fail("accepted without type, number or agency", in->type);
    for (const char *p = in->type; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            fail("type is not a code", in->type);
    if (in->priority < 0 || in->priority > 4)
        fail("priority out of range", NULL);
    if (in->caller_phone[0]) {
        const char *p = in->caller_phone + (in->caller_phone[0] == '+');
        size_t digits = strspn(p, "0123456789");
        if (p[digits] != '\0' || digits < 3 || digits > 20)
            fail("implausible phone accepted", in->caller_phone);
    }
    if (in->has_location) {
        if (!isfinite(in->lat) || !isfinite(in->lon) || in->lat < -90 || in->lat > 90 ||
            in->lon < -180 || in->lon > 180)
            fail("coordinates out of range", NULL);
    } else if (in->lat != 0 || in->lon != 0) {
        fail("coordinates without has_location", NULL);
    }
}

/* The incident object of amane's API that `in` describes. */
static json_t *incident_of(const struct cad_incident_import *in)
{
    char call[AM_TIME_BUFSZ];
    am_time_fmt(in->call_us, call, sizeof(call));
    json_t *inc = json_pack("{s:s,s:s,s:s,s:{s:s}}", "number", "FUZZ-1", "type", in->type,
                            "narrative", in->narrative, "times", "call", call);
    if (!inc)
        fail("cannot build the incident", NULL);
    if (in->priority)
        json_object_set_new(inc, "priority", json_integer(in->priority));
    json_object_set_new(inc, "caller",
                        json_pack("{s:s,s:s}", "name", in->caller_name, "phone", in->caller_phone));
    json_t *loc = json_object();
    if (in->has_location) {
        json_object_set_new(loc, "lat", json_real(in->lat));
        json_object_set_new(loc, "lon", json_real(in->lon));
    }
    if (in->address[0])
        json_object_set_new(loc, "address", json_string(in->address));
    json_object_set_new(inc, "location", loc);
    return inc;
}

static void check_roundtrip(const struct cad_incident_import *in)
{
    json_t *inc = incident_of(in), *eido = NULL;
    int rc = cad_eido_export(inc, "fuzz.example", &eido);
    if (rc)
        fail("cannot export what was imported", am_strerror(rc));
    char *text = json_dumps(eido, JSON_COMPACT);
    if (!text)
        fail("cannot dump the export", NULL);
    struct cad_incident_import again;
    char why[256];
    rc = cad_eido_import(text, strlen(text), &again, why, sizeof(why));
    if (rc)
        fail("our own export is refused", why);
#define SAME(f)                                                                                    \
    if (strcmp(in->f, again.f) != 0)                                                               \
        fail("round trip changed " #f, again.f);
    SAME(type);
    SAME(caller_name);
    SAME(caller_phone);
    SAME(address);
    SAME(narrative);
#undef SAME
    if (strcmp(again.remote_number, "FUZZ-1") != 0 || strcmp(again.remote_agency, "fuzz.example"))
        fail("round trip lost number or agency", again.remote_number);
    if (again.priority != in->priority || again.call_us != in->call_us ||
        again.has_location != in->has_location)
        fail("round trip changed priority, call time or location", NULL);
    if (in->has_location && (fabs(again.lat - in->lat) > 1e-6 || fabs(again.lon - in->lon) > 1e-6))
        fail("round trip moved the location", NULL);
    free(text);
    json_decref(eido);
    json_decref(inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cad_incident_import in;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = cad_eido_import((const char *)data, size, &in, why, sizeof(why));
    if (rc) {
        if (rc != AM_EINVAL)
            fail("unexpected error code", am_strerror(rc));
        if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
            fail("a refusal must give a reason", NULL);
        for (const char *c = why; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                fail("a reason must be one line of printable ASCII", why);
        const unsigned char *u = (const unsigned char *)&in;
        for (size_t i = 0; i < sizeof(in); i++)
            if (u[i])
                fail("a refusal must leave the result zeroed", why);
        return 0;
    }
    check_result(&in);
    check_roundtrip(&in);
    return 0;
}
