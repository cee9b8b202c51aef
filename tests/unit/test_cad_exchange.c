/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_cad_exchange.c - unit tests of src/cad/exchange.c: incidents exported
 * as EIDO and imported back (French and Arabic text, no location, an address
 * only, several units and notes); EIDO documents written the way other
 * vendors write them, with members we do not know; a table of bad documents
 * each refused with a reason that names the field; CAP alerts checked
 * element by element, for escaping, both languages and well-formedness (by a
 * small checker here, and by xmllint when the machine has it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cad/exchange.h"

#define AGENCY "casablanca.dgsn.ma"

/* ------------------------------------------------------------- fixtures */

/* A dispatched assault in Casablanca: both languages, a location, three units, two notes. */
static const char *const INCIDENT_FULL =
    "{\"number\":\"CAS-2026-000001\",\"id\":1,\"status\":\"dispatched\",\"type\":\"ASSAULT\","
    "\"type_fr\":\"Agression\",\"type_ar\":\"اعتداء\",\"priority\":1,"
    "\"caller\":{\"name\":\"Fatima Zahra El Idrissi\",\"phone\":\"+212661234567\"},"
    "\"location\":{\"lat\":33.5873,\"lon\":-7.632,\"address\":\"Boulevard Zerktouni, Casablanca\"},"
    "\"place\":{\"region\":{\"code\":\"MA-06\",\"fr\":\"Casablanca-Settat\",\"ar\":\"الدار البيضاء "
    "سطات\"},"
    "\"prefecture\":{\"code\":\"MA-CAS\",\"fr\":\"Casablanca\",\"ar\":\"الدار البيضاء\"},"
    "\"sector\":{\"code\":\"CAS-S01\",\"fr\":\"Secteur Maârif\",\"ar\":\"قطاع المعاريف\"}},"
    "\"narrative\":\"Homme blessé au bras, agresseur en fuite.\\nTémoin: <script>alert(1)</script> "
    "& \\\"quotes\\\" 'x'\","
    "\"disposition\":null,\"merged_into\":null,"
    "\"times\":{\"call\":\"2026-11-29T10:42:00Z\",\"created\":\"2026-11-29T10:42:31.250000Z\","
    "\"dispatched\":\"2026-11-29T10:43:05Z\",\"en_route\":null,\"on_scene\":null,\"closed\":null},"
    "\"units\":[{\"callsign\":\"CAS-P-01\",\"kind\":\"car_patrol\",\"primary\":true,\"status\":"
    "\"en_route\","
    "\"assigned\":\"2026-11-29T10:43:05Z\",\"released\":null},"
    "{\"callsign\":\"CAS-M-07\",\"kind\":\"motorcycle\",\"primary\":false,\"status\":"
    "\"dispatched\","
    "\"assigned\":\"2026-11-29T10:43:40Z\",\"released\":null},"
    "{\"callsign\":\"CAS-K9-02\",\"kind\":\"k9\",\"primary\":false,\"status\":\"dispatched\","
    "\"assigned\":\"2026-11-29T10:44:00Z\",\"released\":\"2026-11-29T10:50:00Z\"}],"
    "\"notes\":[{\"ts\":\"2026-11-29T10:44:10Z\",\"author\":\"dispatcher\",\"text\":\"Suspect: "
    "veste rouge, direction Maârif\"},"
    "{\"ts\":\"2026-11-29T10:46:00Z\",\"author\":\"sup.benali\",\"text\":\"المشتبه به يركب دراجة "
    "نارية\"}],"
    "\"links\":[\"CAS-2026-000007\"]}";

/* A noise complaint with no location, no phone and no priority. */
static const char *const INCIDENT_NO_LOCATION =
    "{\"number\":\"RAB-2026-000042\",\"status\":\"new\",\"type\":\"NOISE\",\"type_fr\":\"Tapage\","
    "\"type_ar\":\"ضجيج\",\"caller\":{\"name\":\"Anonyme\"},"
    "\"narrative\":\"Musique forte depuis 23h\","
    "\"times\":{\"call\":\"2026-03-01T23:15:09.123456Z\",\"created\":\"2026-03-01T23:16:00Z\"}}";

/* A theft reported by address only, in Arabic, closed with a disposition, merged. */
static const char *const INCIDENT_ADDRESS_ONLY =
    "{\"number\":\"MAR-2026-000310\",\"status\":\"closed\",\"type\":\"LARCENY\",\"type_fr\":"
    "\"Vol\","
    "\"type_ar\":\"سرقة\",\"priority\":3,"
    "\"caller\":{\"name\":\"يوسف بن علي\",\"phone\":\"0524123456\"},"
    "\"location\":{\"address\":\"ساحة جامع الفنا، مراكش\"},"
    "\"place\":{\"region\":{\"code\":\"MA-07\",\"fr\":\"Marrakech-Safi\",\"ar\":\"مراكش آسفي\"},"
    "\"prefecture\":null,\"sector\":null},"
    "\"narrative\":\"سرقة هاتف محمول من سائح\\nالمشتبه به هرب نحو السوق\","
    "\"disposition\":\"report\",\"merged_into\":\"MAR-2026-000309\","
    "\"times\":{\"call\":\"2026-06-12T18:02:00Z\",\"created\":\"2026-06-12T18:03:00Z\","
    "\"dispatched\":\"2026-06-12T18:05:00Z\",\"en_route\":\"2026-06-12T18:06:00Z\","
    "\"on_scene\":\"2026-06-12T18:15:00Z\",\"closed\":\"2026-06-12T19:00:00Z\"},"
    "\"units\":[],\"notes\":[],\"links\":[]}";

/* A road accident: the public is warned. */
static const char *const INCIDENT_MVA =
    "{\"number\":\"RAB-2026-000077\",\"status\":\"on_scene\",\"type\":\"MVA\","
    "\"type_fr\":\"Accident de la circulation\",\"type_ar\":\"حادثة سير\",\"priority\":2,"
    "\"location\":{\"lat\":34.0209,\"lon\":-6.8416,\"address\":\"Avenue Mohammed V, Rabat\"},"
    "\"narrative\":\"Deux véhicules, un blessé léger. Plaque 12345-A-6.\","
    "\"times\":{\"call\":\"2026-04-02T08:00:00Z\"}}";

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (!v)
        fprintf(stderr, "fixture: %s at %d:%d\n", err.text, err.line, err.column);
    assert_non_null(v);
    return v;
}

/* Exports `incident_text` and returns the EIDO as text (caller frees). */
static char *export_text(const char *incident_text)
{
    json_t *inc = load(incident_text), *eido = NULL;
    assert_int_equal(cad_eido_export(inc, AGENCY, &eido), 0);
    assert_non_null(eido);
    char *text = json_dumps(eido, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    assert_non_null(text);
    json_decref(eido);
    json_decref(inc);
    return text;
}

static void import_ok(const char *text, struct cad_incident_import *out)
{
    char why[256] = "";
    int rc = cad_eido_import(text, strlen(text), out, why, sizeof(why));
    if (rc)
        fprintf(stderr, "import refused: %s\n", why);
    assert_int_equal(rc, 0);
}

static int64_t t(const char *s)
{
    int64_t us;
    assert_int_equal(am_time_parse(s, &us), 0);
    return us;
}

/* ------------------------------------------------------------- a small XML checker */

/*
 * Well-formedness of the XML we write: an XML declaration, properly nested
 * elements, quoted attributes, text without raw '<' or stray '&', only
 * predefined or numeric entities, characters allowed by XML 1.0, one root.
 * Returns NULL or what is wrong.
 */
static const char *xml_fault(const char *x)
{
    char stack[32][64];
    int depth = 0, roots = 0;
    const char *p = x;
    if (strncmp(p, "<?xml ", 6) == 0) {
        p = strstr(p, "?>");
        if (!p)
            return "unterminated declaration";
        p += 2;
    }
    if (!am_utf8_valid(x, strlen(x)))
        return "not UTF-8";
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            return "control character";
        if (c == 0xef && (unsigned char)p[1] == 0xbf &&
            ((unsigned char)p[2] == 0xbe || (unsigned char)p[2] == 0xbf))
            return "U+FFFE or U+FFFF";
        if (c == '&') {
            static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", NULL};
            bool ok = false;
            for (int i = 0; ents[i]; i++)
                ok = ok || strncmp(p, ents[i], strlen(ents[i])) == 0;
            if (!ok && p[1] == '#') {
                const char *q = p + 2;
                while (*q >= '0' && *q <= '9')
                    q++;
                ok = q > p + 2 && *q == ';';
            }
            if (!ok)
                return "bad entity";
            p++;
            continue;
        }
        if (c == '>' && depth == 0 && roots == 0)
            return "stray '>'";
        if (c != '<') {
            if (depth == 0 && c != ' ' && c != '\n' && c != '\r' && c != '\t')
                return "text outside the root";
            p++;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + (closing ? 2 : 1), *q = name;
        while (*q && *q != '>' && *q != '/' && *q != ' ' && *q != '\n')
            q++;
        size_t nlen = (size_t)(q - name);
        if (nlen == 0 || nlen >= 64)
            return "bad tag name";
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != nlen ||
                strncmp(stack[depth - 1], name, nlen) != 0)
                return "mismatched end tag";
            depth--;
            if (*q != '>')
                return "bad end tag";
            p = q + 1;
            continue;
        }
        /* Attributes: name="value" with no '<' inside. */
        while (*q == ' ' || *q == '\n') {
            while (*q == ' ' || *q == '\n')
                q++;
            if (*q == '>' || *q == '/')
                break;
            while (*q && *q != '=' && *q != '>')
                q++;
            if (*q != '=' || (q[1] != '"' && q[1] != '\''))
                return "bad attribute";
            char quote = q[1];
            q += 2;
            while (*q && *q != quote) {
                if (*q == '<')
                    return "'<' in an attribute";
                q++;
            }
            if (!*q)
                return "unterminated attribute";
            q++;
        }
        if (depth == 0 && ++roots > 1)
            return "two roots";
        if (*q == '/' && q[1] == '>') {
            p = q + 2;
            continue;
        }
        if (*q != '>')
            return "bad start tag";
        if (depth == 32)
            return "too deep";
        memcpy(stack[depth], name, nlen);
        stack[depth][nlen] = '\0';
        depth++;
        p = q + 1;
    }
    return depth == 0 && roots == 1 ? NULL : "unclosed element";
}

/* Runs xmllint --noout on `xml` if the machine has it; true if it agrees (or is absent). */
static bool xmllint_accepts(const char *xml)
{
    if (access("/usr/bin/xmllint", X_OK) != 0) {
        fprintf(stderr, "xmllint not installed: its check is skipped\n");
        return true;
    }
    char path[] = "/tmp/test_cad_exchange_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(xml, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "/usr/bin/xmllint --noout %s", path);
    int st = system(cmd);
    unlink(path);
    return st == 0;
}

/* Each tag of the NULL-terminated list opens after the one before it, from `from`. */
static const char *expect_order(const char *from, const char *const *tags)
{
    const char *at = from;
    for (size_t i = 0; tags[i]; i++) {
        char open[64];
        snprintf(open, sizeof(open), "<%s>", tags[i]);
        const char *next = strstr(at, open);
        if (!next) {
            snprintf(open, sizeof(open), "<%s ", tags[i]);
            next = strstr(at, open);
        }
        if (!next)
            fprintf(stderr, "<%s> missing or out of order\n", tags[i]);
        assert_non_null(next);
        at = next + 1;
    }
    return at;
}

/* The text between <tag> and </tag> at or after `from` (static buffer). */
static const char *elem_text(const char *from, const char *tag)
{
    static char buf[4096];
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(from, open);
    assert_non_null(a);
    a += strlen(open);
    const char *b = strstr(a, close);
    assert_non_null(b);
    assert_true((size_t)(b - a) < sizeof(buf));
    memcpy(buf, a, (size_t)(b - a));
    buf[b - a] = '\0';
    return buf;
}

/* ------------------------------------------------------------- EIDO export */

static void test_export_structure(void **state)
{
    (void)state;
    json_t *inc = load(INCIDENT_FULL), *e = NULL;
    assert_int_equal(cad_eido_export(inc, AGENCY, &e), 0);

    assert_string_equal(json_string_value(json_object_get(e, "$id")),
                        "urn:emergency:uid:incidentid:CAS-2026-000001:" AGENCY);
    assert_string_equal(json_string_value(json_object_get(e, "eidoVersion")), "1.0");
    /* The latest time of the incident: the K9 unit's release. */
    assert_string_equal(json_string_value(json_object_get(e, "lastUpdateTimeStamp")),
                        "2026-11-29T10:50:00.000000Z");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e, "updatedByAgencyReference"), "$ref")),
        AGENCY);
    assert_non_null(json_string_value(json_object_get(e, "issuingElementIdentification")));

    json_t *ic = json_object_get(e, "incidentComponent");
    assert_true(json_is_object(ic));
    assert_string_equal(json_string_value(json_object_get(ic, "incidentTypeCommonRegistryText")),
                        "ASSAULT");
    assert_string_equal(json_string_value(json_object_get(ic, "incidentTypeInternalText")),
                        "Agression");
    assert_string_equal(json_string_value(json_object_get(ic, "internalIncidentId")),
                        "CAS-2026-000001");
    assert_string_equal(json_string_value(json_object_get(ic, "incidentPriorityInternalText")),
                        "P1");
    assert_null(json_object_get(ic, "incidentCommonPriorityNumber"));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(ic, "incidentStatusInternalText"), 0)),
        "dispatched");
    assert_string_equal(json_string_value(json_object_get(ic, "beatOrDispatchGroupText")),
                        "CAS-S01");
    json_t *labels = json_object_get(ic, "amaneIncidentTypeText");
    assert_int_equal(json_array_size(labels), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(labels, 1), "value")),
                        "اعتداء");
    assert_string_equal(json_string_value(json_object_get(json_array_get(labels, 1), "lang")),
                        "ar");
    /* Every data component carries the prologue. */
    static const char *const lists[] = {"callComponent",
                                        "callbackComponent",
                                        "dispatchComponent",
                                        "notesComponent",
                                        "emergencyResourceComponent",
                                        "agencyComponent",
                                        "agentComponent",
                                        "locationComponent",
                                        "personComponent",
                                        "linkComponent",
                                        NULL};
    for (size_t i = 0; lists[i]; i++) {
        json_t *l = json_object_get(e, lists[i]), *c;
        size_t k;
        assert_true(json_is_array(l) && json_array_size(l) > 0);
        json_array_foreach(l, k, c)
        {
            int64_t us;
            assert_non_null(json_string_value(json_object_get(c, "$id")));
            assert_int_equal(
                am_time_parse(json_string_value(json_object_get(c, "lastUpdateTimeStamp")), &us),
                0);
            assert_true(json_is_object(json_object_get(c, "updatedByAgencyReference")));
        }
    }
    assert_int_equal(json_array_size(json_object_get(e, "emergencyResourceComponent")), 3);
    assert_int_equal(json_array_size(json_object_get(e, "dispatchComponent")), 3);
    json_t *r0 = json_array_get(json_object_get(e, "emergencyResourceComponent"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "emergencyResourceName")),
                        "CAS-P-01");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(r0, "unitStatusInternal"), 1)), "primary");
    json_t *r2 = json_array_get(json_object_get(e, "emergencyResourceComponent"), 2);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(r2, "unitStatusInternal"), 0)),
        "released");
    /* Two authors, two agents; the narrative and two notes. */
    assert_int_equal(json_array_size(json_object_get(e, "agentComponent")), 2);
    json_t *notes = json_object_get(e, "notesComponent");
    assert_int_equal(json_array_size(notes), 3);
    const char *html =
        json_string_value(json_object_get(json_array_get(notes, 0), "notesActionComments"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    assert_non_null(strstr(html, "fuite.<br>Témoin"));
    assert_null(strstr(html, "<script>"));

    json_t *loc = json_array_get(json_object_get(e, "locationComponent"), 0);
    const char *pidf = json_string_value(json_object_get(loc, "locationByValue"));
    assert_non_null(strstr(pidf, "<gml:pos>33.5873000 -7.6320000</gml:pos>"));
    assert_non_null(strstr(pidf, "<ca:A1>Casablanca-Settat</ca:A1>"));
    assert_non_null(strstr(pidf, "<ca:LOC>Boulevard Zerktouni, Casablanca</ca:LOC>"));
    assert_null(xml_fault(pidf));
    assert_true(xmllint_accepts(pidf));
    assert_string_equal(json_string_value(json_object_get(loc, "locationDescriptionText")),
                        "Boulevard Zerktouni, Casablanca");

    json_t *person = json_array_get(json_object_get(e, "personComponent"), 0);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(person, "personIncidentRoleRegistryText"), 0)),
                        "Caller");
    json_t *cb = json_array_get(json_object_get(e, "callbackComponent"), 0);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(cb, "callBackInformationUri"), 0)),
        "tel:+212661234567");
    json_t *call = json_array_get(json_object_get(e, "callComponent"), 0);
    assert_string_equal(json_string_value(json_object_get(call, "callStartTimestamp")),
                        "2026-11-29T10:42:00.000000Z");
    json_t *link = json_array_get(json_object_get(e, "linkComponent"), 0);
    assert_string_equal(json_string_value(json_object_get(link, "incidentTrackingIdentifier")),
                        "urn:emergency:uid:incidentid:CAS-2026-000007:" AGENCY);
    json_t *ag = json_array_get(json_object_get(e, "agencyComponent"), 0);
    assert_true(json_is_true(json_object_get(ag, "incidentOwningAgencyIndicator")));

    json_decref(e);
    json_decref(inc);
}

static void test_export_refuses_malformed_incidents(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{\"type\":\"ASSAULT\",\"times\":{\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"times\":{\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\"}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"times\":{\"call\":\"hier\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"times\":{\"call\":\"1969-12-31T23:59:59Z\"}}",
        "{\"number\":\"A 1\",\"type\":\"ASSAULT\",\"times\":{\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"priority\":7,\"times\":{\"call\":\"2026-01-"
        "01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"priority\":\"1\",\"times\":{\"call\":\"2026-01-"
        "01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"location\":{\"lat\":33.5},\"times\":{\"call\":"
        "\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"location\":{\"lat\":95,\"lon\":0},\"times\":{"
        "\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"caller\":{\"name\":5},\"times\":{\"call\":"
        "\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"units\":[{\"kind\":\"car\"}],\"times\":{"
        "\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"notes\":[{\"ts\":\"x\",\"text\":\"a\"}],"
        "\"times\":{\"call\":\"2026-01-01T00:00:00Z\"}}",
        "{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"links\":[\"a "
        "b\"],\"times\":{\"call\":\"2026-01-01T00:00:00Z\"}}",
        NULL,
    };
    for (size_t i = 0; bad[i]; i++) {
        json_t *inc = load(bad[i]), *e = (json_t *)1;
        int rc = cad_eido_export(inc, AGENCY, &e);
        if (rc != AM_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_int_equal(rc, AM_EINVAL);
        assert_null(e);
        json_decref(inc);
    }
    json_t *inc = load(INCIDENT_MVA), *e = (json_t *)1;
    assert_int_equal(cad_eido_export(inc, "bad agency", &e), AM_EINVAL);
    assert_null(e);
    assert_int_equal(cad_eido_export(inc, "", &e), AM_EINVAL);
    assert_int_equal(cad_eido_export(inc, NULL, &e), AM_EINVAL);
    json_decref(inc);
}

/* ------------------------------------------------------------- round trips */

static void test_roundtrip_full(void **state)
{
    (void)state;
    char *text = export_text(INCIDENT_FULL);
    struct cad_incident_import in;
    import_ok(text, &in);
    assert_string_equal(in.type, "ASSAULT");
    assert_int_equal(in.priority, 1);
    assert_string_equal(in.caller_name, "Fatima Zahra El Idrissi");
    assert_string_equal(in.caller_phone, "+212661234567");
    assert_true(in.has_location);
    assert_true(fabs(in.lat - 33.5873) < 1e-6);
    assert_true(fabs(in.lon - -7.632) < 1e-6);
    assert_string_equal(in.address, "Boulevard Zerktouni, Casablanca");
    /* The narrative comes back as it was, then the room's notes, one a line. */
    assert_string_equal(in.narrative, "Homme blessé au bras, agresseur en fuite.\n"
                                      "Témoin: <script>alert(1)</script> & \"quotes\" 'x'\n"
                                      "Suspect: veste rouge, direction Maârif\n"
                                      "المشتبه به يركب دراجة نارية");
    assert_int_equal(in.call_us, t("2026-11-29T10:42:00Z"));
    assert_string_equal(in.remote_number, "CAS-2026-000001");
    assert_string_equal(in.remote_agency, AGENCY);
    free(text);
}

static void test_roundtrip_no_location(void **state)
{
    (void)state;
    char *text = export_text(INCIDENT_NO_LOCATION);
    assert_null(strstr(text, "locationComponent"));
    assert_null(strstr(text, "callbackComponent"));
    struct cad_incident_import in;
    import_ok(text, &in);
    assert_string_equal(in.type, "NOISE");
    assert_int_equal(in.priority, 0);
    assert_string_equal(in.caller_name, "Anonyme");
    assert_string_equal(in.caller_phone, "");
    assert_false(in.has_location);
    assert_string_equal(in.address, "");
    assert_string_equal(in.narrative, "Musique forte depuis 23h");
    assert_int_equal(in.call_us, t("2026-03-01T23:15:09.123456Z"));
    assert_string_equal(in.remote_number, "RAB-2026-000042");
    free(text);
}

static void test_roundtrip_address_only_arabic(void **state)
{
    (void)state;
    char *text = export_text(INCIDENT_ADDRESS_ONLY);
    assert_non_null(strstr(text, "mergeComponent"));
    assert_non_null(strstr(text, "\"REPLACED\""));
    assert_non_null(strstr(text, "dispositionCommonRegistryCode"));
    assert_null(strstr(text, "gml:pos"));
    struct cad_incident_import in;
    import_ok(text, &in);
    assert_string_equal(in.type, "LARCENY");
    assert_int_equal(in.priority, 3);
    assert_string_equal(in.caller_name, "يوسف بن علي");
    assert_string_equal(in.caller_phone, "0524123456");
    assert_false(in.has_location);
    assert_string_equal(in.address, "ساحة جامع الفنا، مراكش");
    assert_string_equal(in.narrative, "سرقة هاتف محمول من سائح\nالمشتبه به هرب نحو السوق");
    assert_string_equal(in.remote_number, "MAR-2026-000310");
    free(text);
}

/* Without locationDescriptionText, the address comes from the PIDF-LO's civic address. */
static void test_roundtrip_civic_address_from_pidf(void **state)
{
    (void)state;
    json_t *inc = load(INCIDENT_FULL), *e = NULL;
    assert_int_equal(cad_eido_export(inc, AGENCY, &e), 0);
    json_t *loc = json_array_get(json_object_get(e, "locationComponent"), 0);
    assert_int_equal(json_object_del(loc, "locationDescriptionText"), 0);
    char *text = json_dumps(e, 0);
    struct cad_incident_import in;
    import_ok(text, &in);
    assert_string_equal(in.address, "Boulevard Zerktouni, Casablanca");
    assert_true(in.has_location);
    free(text);
    json_decref(e);
    json_decref(inc);
}

/* ------------------------------------------------------------- other vendors */

/* Shaped like the 2020 draft sample: capitalised prologue, arrays, an ellipsoid. */
static const char *const VENDOR_2020 =
    "{\"$id\":\"incidentid:0:psap.example.pa.us:header\","
    "\"LastUpdateTimeStamp\":\"2020-10-29T18:40:04.337Z\","
    "\"OwningAgencyIdentifier\":\"psap.example.pa.us\","
    "\"UpdatedByAgentIdentifier\":\"call.taker@psap.example.pa.us\","
    "\"EIDOVersion\":\"1.0\","
    "\"incidentTrackingIdentifier\":\"urn:emergency:uid:incidentid:0:psap.example.pa.us\","
    "\"reasonForIssueRegistryText\":\"CallStatusChanged\","
    "\"agencyComponent\":[{\"$id\":\"incidentid:0:psap.example.pa.us:agency:0\","
    "\"organizationIdentification\":\"psap.example.pa.us\",\"agencyType\":\"PSAP\","
    "\"agencyRoleDescriptionRegistryText\":[\"Dispatch\",\"PSAP\"]}],"
    "\"incidentComponent\":[{\"$id\":\"incidentid:0:psap.example.pa.us:incident:0\","
    "\"incidentTypeInternalCode\":\"10-101\",\"incidentTypeInternalText\":\"CIVIL UNREST\","
    "\"incidentTypeCommonRegistryText\":\"CIVDIS\",\"incidentStatusInternalText\":[\"10-101\"],"
    "\"incidentPriorityInternalText\":\"10: VERY HIGH "
    "PRIORITY\",\"incidentCommonPriorityNumber\":10,"
    "\"vendorExtension\":{\"anything\":[1,2,{\"deep\":true}]}}],"
    "\"dispatchComponent\":[{\"$id\":\"d0\",\"organizationIdentification\":\"police.example.pa."
    "us\"}],"
    "\"locationInformationComponent\":[{\"$id\":\"loc0\",\"LastUpdateTimeStamp\":\"2020-10-29T18:"
    "40:04.338Z\","
    "\"locationTypeDescriptionRegistryText\":\"RoutingLocation\","
    "\"locationByValue\":\"   <?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?>  <presence "
    "xmlns=\\\"urn:ietf:params:xml:ns:pidf\\\" "
    "xmlns:gp=\\\"urn:ietf:params:xml:ns:pidf:geopriv10\\\" "
    "xmlns:gml=\\\"http://www.opengis.net/gml\\\" "
    "xmlns:gs=\\\"http://www.opengis.net/pidflo/1.0\\\" "
    "entity=\\\"pres:geotarget@example.com\\\"><device "
    "id=\\\"sg89ae\\\"><gp:geopriv><gp:location-info>"
    "<gs:Ellipsoid srsName=\\\"urn:ogc:def:crs:EPSG::4979\\\"><gml:pos>40.441345 -80.000266 "
    "34</gml:pos>"
    "<gs:semiMajorAxis uom=\\\"urn:ogc:def:uom:EPSG::9001\\\">7.7156</gs:semiMajorAxis>"
    "</gs:Ellipsoid></gp:location-info><gp:usage-rules/></gp:geopriv>"
    "<timestamp>2020-10-29T18:40:04.338Z</timestamp></device></presence> \"}],"
    "\"@context\":{\"@vocab\":\"./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld\"}}";

/* Shaped like the 2021 call transfer sample, with an incident: SIP first, civic address, agents. */
static const char *const VENDOR_2021 =
    "{\"$id\":\"urn:emergency:uid:incidentid:a56e556d871:bcf.state.example.us\","
    "\"lastUpdateTimeStamp\":\"2021-04-30T18:43:49.439Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"eidoVersion\":\"1.0\",\"issuingElementIdentification\":\"idx.state.example.us\","
    "\"incidentComponent\":{\"$id\":\"inc-1\",\"lastUpdateTimeStamp\":\"2021-04-30T18:43:00Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"incidentTypeCommonRegistryText\":\"ROBBERY\",\"incidentPriorityInternalText\":\"P2\","
    "\"locationReference\":[{\"$ref\":\"loc-caller\"}]},"
    "\"callComponent\":[{\"$id\":\"urn:emergency:uid:callid:a56e556d871:bcf.state.example.us\","
    "\"lastUpdateTimeStamp\":\"2021-04-30T18:42:00.0Z\",\"updatedByAgencyReference\":{\"$ref\":"
    "\"state.example.us\"},"
    "\"queueIdentifier\":\"sos@state.example.us\",\"standardPrimaryCallType\":\"emergency\","
    "\"direction\":\"incoming\",\"callStartTimestamp\":\"2021-04-30T18:40:00.0Z\","
    "\"answerDate\":\"2021-04-30T18:42:00.0Z\",\"callStateRegistryText\":\"callAnswered\","
    "\"callBackReference\":{\"$ref\":\"cb-1\"},\"personReference\":[{\"$ref\":\"p-1\"}]}],"
    "\"callbackComponent\":[{\"$id\":\"cb-1\",\"lastUpdateTimeStamp\":\"2021-04-30T18:40:00.0Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"callBackInformationUri\":[\"sip:8195551212@osp.example.com\",\"tel:+1-819-555-1212\"],"
    "\"deviceContactHeader\":\"sip:conf@bridge.example.com;isfocus\"}],"
    "\"agencyComponent\":[{\"$id\":\"state.example.us\",\"lastUpdateTimeStamp\":\"2021-04-30T18:40:"
    "00.0Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"agencyRoleDescriptionRegistryText\":[\"CallReceiving\"],\"agencyType\":[\"psap\"]},"
    "{\"$id\":\"police.example.us\",\"agencyType\":[\"police\"],\"incidentOwningAgencyIndicator\":"
    "false}],"
    "\"agentComponent\":[{\"$id\":\"tjones@state.example.us\",\"agentRoleRegistryText\":[\"Call "
    "Taking\"],"
    "\"agencyReference\":{\"$ref\":\"state.example.us\"}}],"
    "\"notesComponent\":[{\"$id\":\"n-1\",\"lastUpdateTimeStamp\":\"2021-04-30T18:41:00Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"notesActionComments\":\"<p>Caller says two men took her bag &amp; ran</p><p>One wore a "
    "&quot;NY&quot; cap</p>\"},"
    "{\"$id\":\"n-2\",\"lastUpdateTimeStamp\":\"2021-04-30T18:42:00Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"notesActionComments\":\"Plain text note\\r\\nwith CRLF\\tand a tab &#233;t&#xE9; 3 < 4\"}],"
    "\"locationComponent\":[{\"$id\":\"loc-routing\",\"lastUpdateTimeStamp\":\"2021-04-30T18:40:00."
    "0Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"locationTypeDescriptionRegistryText\":\"RoutingLocation\","
    "\"locationByReferenceUrl\":\"https://lrf.osp.example.com?oasufdqwerjn12346jfias\"},"
    "{\"$id\":\"loc-caller\",\"lastUpdateTimeStamp\":\"2021-04-30T18:40:30.0Z\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"locationTypeDescriptionRegistryText\":\"Caller\","
    "\"locationByValue\":\"<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?> <presence "
    "xmlns=\\\"urn:ietf:params:xml:ns:pidf\\\" "
    "xmlns:gp=\\\"urn:ietf:params:xml:ns:pidf:geopriv10\\\" "
    "xmlns:dm=\\\"urn:ietf:params:xml:ns:pidf:data-model\\\" "
    "entity=\\\"pres:alice@example.com\\\"> "
    "<dm:device id=\\\"target123-1\\\"> <gp:geopriv> <gp:location-info> <civicAddress "
    "xmlns=\\\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\\\"> <country>US</country> "
    "<A1>DE</A1> "
    "<A3>Wilmington</A3> <PRD>W</PRD> <RD>Cellular</RD> <STS>Street</STS> <HNO>42</HNO> "
    "<NAM>Smith &amp; Sons</NAM></civicAddress> </gp:location-info> <gp:usage-rules/> "
    "<gp:method>Manual</gp:method> </gp:geopriv> </dm:device> </presence>\"}],"
    "\"personComponent\":[{\"$id\":\"p-0\",\"personIncidentRoleRegistryText\":[\"Witness\"],"
    "\"ncPersonComponent\":{\"name\":[{\"personFullName\":[{\"value\":\"Not The Caller\"}]}]}},"
    "{\"$id\":\"p-1\",\"lastUpdateTimeStamp\":\"2021-04-30T18:40:00.0\","
    "\"updatedByAgencyReference\":{\"$ref\":\"state.example.us\"},"
    "\"personIncidentRoleRegistryText\":[\"Caller\"],"
    "\"ncPersonComponent\":{\"name\":[{\"personGivenName\":[{\"value\":\"Alice\"}],"
    "\"personSurName\":[{\"value\":\"Moreau\"}]}],\"ageMeasure\":[{\"value\":[{\"value\":40}]}]},"
    "\"callIdentifier\":[\"urn:emergency:uid:callid:a56e556d871:bcf.state.example.us\"],"
    "\"callBackReference\":{\"$ref\":\"cb-1\"}}],"
    "\"@context\":{\"@vocab\":\"./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld\"}}";

/* A smaller CAD's way: GeoJSON point, plain strings for NIEM text, one owning agency. */
static const char *const VENDOR_GEOJSON =
    "{\"$id\":\"INC-88-1203\",\"lastUpdateTimeStamp\":\"2026-05-01T12:00:00+01:00\","
    "\"eidoVersion\":\"1.0\",\"issuingElementIdentification\":\"cad.tanger.example.ma\","
    "\"agencyComponent\":[{\"$id\":\"fire.tanger.example.ma\",\"incidentOwningAgencyIndicator\":"
    "false},"
    "{\"$id\":\"police.tanger.example.ma\",\"incidentOwningAgencyIndicator\":true,\"x-color\":"
    "\"blue\"}],"
    "\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"THAZ\",\"internalIncidentId\":"
    "\"TNG/2026/1203\","
    "\"incidentPriorityInternalText\":\"p2\",\"notesReference\":{\"$ref\":\"main\"}},"
    "\"notesComponent\":[{\"$id\":\"other\",\"notesActionComments\":\"Second note\"},"
    "{\"$id\":\"main\",\"notesActionComments\":\"Arbre tomb&eacute; sur la route<br/>Voie "
    "bloqu&#233;e\"}],"
    "\"locationComponent\":[{\"$id\":\"l1\",\"locationTypeDescriptionRegistryText\":\"Incident\","
    "\"locationByValue\":{\"type\":\"Point\",\"coordinates\":[-5.8129,35.7595]},"
    "\"locationDescriptionText\":\"Route de Rabat, km 4\"}],"
    "\"personComponent\":[{\"personIncidentRoleRegistryText\":\"caller\","
    "\"ncPersonComponent\":{\"name\":{\"personFullName\":\"Karim "
    "B.\"}},\"callBackReference\":{\"$ref\":\"cb\"}}],"
    "\"callbackComponent\":[{\"$id\":\"cb\",\"callBackInformationUri\":\"tel:+212 539 12 34 56\"}],"
    "\"unknownTopLevel\":[[[[1]]]]}";

static void test_import_vendor_2020(void **state)
{
    (void)state;
    struct cad_incident_import in;
    import_ok(VENDOR_2020, &in);
    assert_string_equal(in.type, "CIVDIS");
    assert_int_equal(in.priority, 0); /* "10: VERY HIGH PRIORITY" is not our scale */
    assert_true(in.has_location);
    assert_true(fabs(in.lat - 40.441345) < 1e-9);
    assert_true(fabs(in.lon - -80.000266) < 1e-9);
    assert_string_equal(in.address, "");
    assert_string_equal(in.remote_number, "0");
    assert_string_equal(in.remote_agency, "psap.example.pa.us");
    assert_string_equal(in.caller_name, "");
    assert_int_equal(in.call_us, 0);
}

static void test_import_vendor_2021(void **state)
{
    (void)state;
    struct cad_incident_import in;
    import_ok(VENDOR_2021, &in);
    assert_string_equal(in.type, "ROBBERY");
    assert_int_equal(in.priority, 2);
    assert_string_equal(in.caller_name, "Alice Moreau");
    assert_string_equal(in.caller_phone, "8195551212");
    assert_false(in.has_location);
    assert_string_equal(in.address, "42 W Cellular Street, Wilmington");
    assert_string_equal(in.narrative, "Caller says two men took her bag & ran\n"
                                      "One wore a \"NY\" cap\n\n"
                                      "Plain text note\nwith CRLF and a tab été 3 < 4");
    assert_int_equal(in.call_us, t("2021-04-30T18:40:00Z"));
    assert_string_equal(in.remote_number, "a56e556d871");
    assert_string_equal(in.remote_agency, "state.example.us");
}

static void test_import_vendor_geojson(void **state)
{
    (void)state;
    struct cad_incident_import in;
    import_ok(VENDOR_GEOJSON, &in);
    assert_string_equal(in.type, "THAZ");
    assert_int_equal(in.priority, 2);
    assert_true(in.has_location);
    assert_true(fabs(in.lat - 35.7595) < 1e-9);
    assert_true(fabs(in.lon - -5.8129) < 1e-9);
    assert_string_equal(in.address, "Route de Rabat, km 4");
    /* &eacute; is not one of the references we decode: it stays as written. */
    assert_string_equal(in.narrative, "Arbre tomb&eacute; sur la route\nVoie bloquée\nSecond note");
    assert_string_equal(in.caller_name, "Karim B.");
    assert_string_equal(in.caller_phone, "+212539123456");
    assert_string_equal(in.remote_number, "TNG/2026/1203");
    assert_string_equal(in.remote_agency, "police.tanger.example.ma");
}

/* Notes beyond the narrative's size are dropped, and the narrative says so. */
static void test_import_long_notes_are_cut_and_marked(void **state)
{
    (void)state;
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "{\"eidoVersion\":\"1.0\",\"lastUpdateTimeStamp\":"
                                       "\"2026-01-01T00:00:00Z\",\"$id\":\"X-1\","
                                       "\"updatedByAgencyReference\":{\"$ref\":\"a.example\"},"
                                       "\"incidentComponent\":{\"incidentTypeCommonRegistryText\":"
                                       "\"FIGHT\"},\"notesComponent\":["),
                     0);
    for (int i = 0; i < 30; i++)
        assert_int_equal(am_buf_printf(&b, "%s{\"notesActionComments\":\"note %02d %0200d\"}",
                                       i ? "," : "", i, 0),
                         0);
    assert_int_equal(am_buf_printf(&b, "]}"), 0);
    struct cad_incident_import in;
    import_ok(b.data, &in);
    size_t n = strlen(in.narrative);
    assert_true(n < sizeof(in.narrative));
    assert_true(n > 3500);
    assert_non_null(strstr(in.narrative, "note 00 "));
    assert_null(strstr(in.narrative, "note 29 "));
    assert_string_equal(in.narrative + n - 6, "\n[...]");
    am_buf_release(&b);
}

/* A narrative that nearly fills the struct leaves no room for the mark: nothing stale follows. */
static void test_import_full_narrative_then_a_note(void **state)
{
    (void)state;
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b,
                                   "{\"eidoVersion\":\"1.0\",\"lastUpdateTimeStamp\":"
                                   "\"2026-01-01T00:00:00Z\",\"$id\":\"X-1\","
                                   "\"updatedByAgencyReference\":{\"$ref\":\"a.example\"},"
                                   "\"incidentComponent\":{\"incidentTypeCommonRegistryText\":"
                                   "\"FIGHT\",\"notesReference\":{\"$ref\":\"n\"}},"
                                   "\"notesComponent\":[{\"notesActionComments\":\"0123456789\"},"
                                   "{\"$id\":\"n\",\"notesActionComments\":\""),
                     0);
    for (int i = 0; i < 3995; i++)
        assert_int_equal(am_buf_append(&b, "x", 1), 0);
    assert_int_equal(am_buf_printf(&b, "\"}]}"), 0);
    struct cad_incident_import in;
    import_ok(b.data, &in);
    assert_int_equal(strlen(in.narrative), 3995);
    assert_int_equal(strspn(in.narrative, "x"), 3995);
    am_buf_release(&b);
}

/* ------------------------------------------------------------- bad documents */

#define MIN_HEAD "{\"eidoVersion\":\"1.0\",\"lastUpdateTimeStamp\":\"2026-11-29T10:42:00Z\","
#define MIN_ID   "\"$id\":\"urn:emergency:uid:incidentid:R-1:rabat.dgsn.ma\","
#define MIN_INC  "\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"ROBBERY\"},"
#define MIN_AGENCY                                                                                 \
    "\"agencyComponent\":[{\"$id\":\"rabat.dgsn.ma\",\"incidentOwningAgencyIndicator\":true}]"
#define MIN_BODY    MIN_HEAD MIN_ID MIN_INC MIN_AGENCY
#define WITH(extra) MIN_BODY "," extra "}"
#define PIDF_POS(pos)                                                                              \
    "\"locationComponent\":[{\"locationByValue\":\"<presence><gml:pos>" pos                        \
    "</gml:pos></presence>\"}]"
#define CALLER(name)                                                                               \
    "\"personComponent\":[{\"personIncidentRoleRegistryText\":[\"Caller\"],"                       \
    "\"ncPersonComponent\":{\"name\":[{\"personFullName\":[{\"value\":\"" name "\"}]}]},"          \
    "\"callBackReference\":{\"$ref\":\"cb\"}}]"
#define PHONE(uri)                                                                                 \
    "\"callbackComponent\":[{\"$id\":\"cb\",\"callBackInformationUri\":[\"" uri "\"]}]"
#define NOTE(text) "\"notesComponent\":[{\"notesActionComments\":\"" text "\"}]"

struct bad_doc {
    const char *doc;
    const char *reason; /* a part of the expected reason */
};

static const struct bad_doc bad_docs[] = {
    {"", "empty"},
    {"[]", "object"},
    {"{", "malformed"},
    {"{\"eidoVersion\":\"1.0\",\"x\":\"\xff\"}", "UTF-8"},
    {"{\"a\":1,\"a\":2}", "duplicate"},
    {"{\"a\":\"\\\n\"}", "invalid escape"},       /* jansson's reason quotes the newline */
    {"{\"a\":\"\\\xd8\xb7\"}", "invalid escape"}, /* ... and here half of U+0637 */
    {"{\"eidoVersion\":\"1.0\",\"x\":\"\\u0000\"}", "malformed"},
    {"{\"lastUpdateTimeStamp\":\"2026-11-29T10:42:00Z\"}", "eidoVersion: missing"},
    {"{\"eidoVersion\":\"2.0\"}", "eidoVersion: unsupported version '2.0'"},
    {"{\"eidoVersion\":1}", "eidoVersion: a string was expected"},
    {"{\"eidoVersion\":\"1.0\"}", "lastUpdateTimeStamp: missing"},
    {"{\"eidoVersion\":\"1.0\",\"lastUpdateTimeStamp\":\"yesterday\"}",
     "lastUpdateTimeStamp: not an RFC 3339 time"},
    {MIN_HEAD MIN_ID MIN_AGENCY "}", "incidentComponent: missing"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":\"x\"}",
     "incidentComponent: an array or an object was expected"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":[]}", "incidentComponent: missing"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":[7]}",
     "incidentComponent[0]: an object was expected"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":{}}",
     "incidentComponent.incidentTypeCommonRegistryText: missing"},
    {MIN_HEAD MIN_ID MIN_AGENCY
     ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"ROB BERY\"}}",
     "'ROB BERY' is not an incident type code"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":123}}",
     "incidentComponent.incidentTypeCommonRegistryText: a string was expected"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":"
                                "\"ROBBERY\",\"incidentCommonPriorityNumber\":\"high\"}}",
     "incidentCommonPriorityNumber: an integer was expected"},
    {MIN_HEAD MIN_AGENCY ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"ROBBERY\"}}",
     "internalIncidentId: missing"},
    {MIN_HEAD MIN_AGENCY ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"ROBBERY\","
                         "\"internalIncidentId\":\"0123456789012345678901234567890123456789"
                         "0123456789012345678901234567890123456789\"}}",
     "internalIncidentId: longer than 63 bytes"},
    {MIN_HEAD "\"incidentComponent\":{\"incidentTypeCommonRegistryText\":\"ROBBERY\","
              "\"internalIncidentId\":\"R-1\"}}",
     "no sending agency"},
    {MIN_HEAD MIN_ID MIN_INC "\"agencyComponent\":[\"rabat\"]}",
     "agencyComponent[0]: an object was expected"},
    {MIN_HEAD MIN_ID MIN_INC
     "\"agencyComponent\":[{\"$id\":\"a\",\"incidentOwningAgencyIndicator\":\"yes\"}]}",
     "incidentOwningAgencyIndicator must be true or false"},
    {WITH(PIDF_POS("123.4 -7.6")),
     "locationComponent[0].locationByValue: latitude 123.4 out of range"},
    {WITH(PIDF_POS("33.5")), "gml:pos must hold two or three decimal numbers"},
    {WITH(PIDF_POS("abc def")), "gml:pos must hold two or three decimal numbers"},
    {WITH(PIDF_POS("NaN 5")), "gml:pos must hold two or three decimal numbers"},
    {WITH(PIDF_POS("1e999 5")), "gml:pos must hold two or three decimal numbers"},
    {WITH(PIDF_POS("0x10 5")), "gml:pos must hold two or three decimal numbers"},
    {WITH("\"locationComponent\":[{\"locationByValue\":{\"type\":\"Point\",\"coordinates\":[200,10]"
          "}}]"),
     "longitude 200 out of range"},
    {WITH(
         "\"locationComponent\":[{\"locationByValue\":{\"type\":\"Polygon\",\"coordinates\":[]}}]"),
     "a GeoJSON object must be a Point"},
    {WITH("\"locationComponent\":[{\"locationByValue\":{\"type\":\"Point\",\"coordinates\":[\"1\","
          "2]}}]"),
     "coordinates must be numbers"},
    {WITH("\"locationComponent\":[{\"locationByValue\":5}]"),
     "PIDF-LO text or a GeoJSON point was expected"},
    {WITH("\"locationComponent\":{\"locationByValue\":5}"),
     "locationComponent: an array was expected"},
    {WITH("\"locationComponent\":[{\"locationDescriptionText\":\"Rue\\u0007 Allal\"}]"),
     "locationDescriptionText: contains a control character"},
    {WITH("\"locationComponent\":[{\"locationDescriptionText\":\""
          "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
          "8901234567890123456789012345678901234567890123456789012345678901234567890123456789012345"
          "67890123456789012345678901234567890123456789012345678901234567890123456789"
          "0123456789012345678901234567890123456789012345678901234567890123456789\"}]"),
     "locationDescriptionText: longer than 255 bytes"},
    {WITH("\"locationComponent\":[{\"locationByValue\":\"<civicAddress><LOC>a &#0; "
          "b</LOC></civicAddress>\"}]"),
     "invalid character reference"},
    {WITH(CALLER("Ali") "," PHONE("tel:12")), "implausible phone number"},
    {WITH(CALLER("Ali") "," PHONE("tel:+2126612345678901234567")), "implausible phone number"},
    {WITH(CALLER("Ali") "," PHONE("tel:+21266abc")), "implausible phone number"},
    {WITH(CALLER("Ali") "," PHONE("+212-66-12345-+6")), "implausible phone number"},
    {WITH(CALLER("Ali\\u0007") "," PHONE("tel:+212661234567")), "contains a control character"},
    {WITH(CALLER("Ali\\nBaba")), "caller name (personFullName): contains a control character"},
    {WITH(CALLER("012345678901234567890123456789012345678901234567890123456789012345678901234567"
                 "89012345678901234567890123456789012345678901234567890123456789")),
     "longer than 127 bytes"},
    {WITH("\"personComponent\":[{\"personIncidentRoleRegistryText\":[1]}]"),
     "personIncidentRoleRegistryText[0]: a string was expected"},
    {WITH("\"personComponent\":[{\"personIncidentRoleRegistryText\":[\"Caller\"],"
          "\"ncPersonComponent\":{\"name\":[{\"personFullName\":[{\"value\":7}]}]}}]"),
     "personFullName: text"},
    {WITH("\"callbackComponent\":[{\"callBackInformationUri\":[5]}]"),
     "callBackInformationUri[0]: a string was expected"},
    {WITH(NOTE("a &#0; b")), "invalid character reference"},
    {WITH(NOTE("a &#xD800; b")), "invalid character reference"},
    {WITH(NOTE("bell \\u0007")), "control character"},
    {WITH(NOTE("bell &#7;")), "control character"},
    {WITH("\"notesComponent\":{\"notesActionComments\":\"x\"}"),
     "notesComponent: an array was expected"},
    {WITH("\"notesComponent\":[{\"$id\":\"n\"}]"),
     "notesComponent[0]: notesActionComments missing"},
    {WITH("\"notesComponent\":[{\"notesActionComments\":[\"x\"]}]"),
     "notesActionComments: a string was expected"},
    {WITH("\"callComponent\":[{\"callStartTimestamp\":\"2021-13-01T00:00:00Z\"}]"),
     "callComponent[0].callStartTimestamp: not an RFC 3339 time"},
    {WITH("\"callComponent\":[{\"callStartTimestamp\":\"1010-04-30T18:40:00Z\"}]"),
     "callComponent[0].callStartTimestamp: before 1970"},
    {WITH("\"callComponent\":[\"call\"]"), "callComponent[0]: an object was expected"},
    {MIN_HEAD MIN_ID MIN_AGENCY ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":"
                                "\"ROBBERY\",\"notesReference\":[{\"ref\":\"n\"}]}}",
     "notesReference[0]: a reference"},
    {NULL, NULL},
};

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++)
        if (u[i])
            return false;
    return true;
}

static void refused(const char *doc, size_t len, const char *reason)
{
    struct cad_incident_import in;
    char why[256];
    memset(&in, 0x5a, sizeof(in));
    memset(why, 0, sizeof(why));
    int rc = cad_eido_import(doc, len, &in, why, sizeof(why));
    if (rc != AM_EINVAL || !strstr(why, reason))
        fprintf(stderr, "document: %.300s\nexpected: %s\ngot rc=%d why=%s\n", doc, reason, rc, why);
    assert_int_equal(rc, AM_EINVAL);
    assert_non_null(strstr(why, reason));
    for (const char *c = why; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7f);
    assert_true(all_zero(&in, sizeof(in)));
}

static void test_import_refuses_bad_documents(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct bad_doc *b = bad_docs; b->doc; b++, n++)
        refused(b->doc, strlen(b->doc), b->reason);
    assert_true(n >= 25);
}

static void test_import_refuses_size_depth_and_counts(void **state)
{
    (void)state;
    /* Past 256 KiB. */
    size_t big = CAD_EIDO_MAX_BYTES + 1;
    char *doc = malloc(big + 1);
    assert_non_null(doc);
    memset(doc, ' ', big);
    doc[0] = '{';
    doc[big - 1] = '}';
    doc[big] = '\0';
    refused(doc, big, "exceeds the limit of 262144 bytes");
    free(doc);

    /* Nested deeper than AM_JSON_MAX_DEPTH. */
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "{\"x\":"), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(am_buf_append(&b, "[", 1), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(am_buf_append(&b, "]", 1), 0);
    assert_int_equal(am_buf_append(&b, "}", 1), 0);
    refused(b.data, b.len, "nested deeper");
    am_buf_release(&b);

    /* More notes than we read. */
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, MIN_BODY ",\"notesComponent\":["), 0);
    for (int i = 0; i < 1025; i++)
        assert_int_equal(am_buf_printf(&b, "%s{\"notesActionComments\":\"n\"}", i ? "," : ""), 0);
    assert_int_equal(am_buf_printf(&b, "]}"), 0);
    refused(b.data, b.len, "notesComponent: more than 1024 elements");
    am_buf_release(&b);

    /* A narrative (referenced note) longer than the struct holds. */
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, MIN_HEAD MIN_ID MIN_AGENCY
                                   ",\"incidentComponent\":{\"incidentTypeCommonRegistryText\":"
                                   "\"ROBBERY\",\"notesReference\":[{\"$ref\":\"n\"}]},"
                                   "\"notesComponent\":[{\"$id\":\"n\",\"notesActionComments\":\""),
                     0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(am_buf_append(&b, "x", 1), 0);
    assert_int_equal(am_buf_printf(&b, "\"}]}"), 0);
    refused(b.data, b.len, "the incident's notes are longer than 3999 bytes");
    am_buf_release(&b);

    /* A document without its terminating NUL is read by length only. */
    const char *ok = MIN_BODY "}";
    char *exact = malloc(strlen(ok));
    memcpy(exact, ok, strlen(ok));
    struct cad_incident_import in;
    char why[128];
    assert_int_equal(cad_eido_import(exact, strlen(ok), &in, why, sizeof(why)), 0);
    assert_string_equal(in.remote_number, "R-1");
    assert_string_equal(in.remote_agency, "rabat.dgsn.ma");
    assert_int_equal(cad_eido_import(exact, strlen(ok) - 1, &in, why, sizeof(why)), AM_EINVAL);
    free(exact);
}

/* Inputs built to make a careless parser quadratic are read in linear time. */
static void test_import_pathological_inputs_are_fast(void **state)
{
    (void)state;
    static const char *const patterns[] = {"<a", "<pos", "<a ", "&#", "<b&amp;", NULL};
    for (size_t p = 0; patterns[p]; p++) {
        struct am_buf b;
        am_buf_init(&b, 0);
        assert_int_equal(am_buf_printf(&b, MIN_BODY ",\"locationComponent\":["), 0);
        for (int l = 0; l < 3; l++) {
            assert_int_equal(
                am_buf_printf(&b, "%s{\"locationByValue\":\"<civicAddress>", l ? "," : ""), 0);
            while (b.len < (size_t)(l + 1) * 65000)
                assert_int_equal(am_buf_printf(&b, "%s", patterns[p]), 0);
            assert_int_equal(am_buf_printf(&b, "\"}"), 0);
        }
        assert_int_equal(am_buf_printf(&b, "],\"notesComponent\":[{\"notesActionComments\":\""), 0);
        while (b.len < 250000)
            assert_int_equal(am_buf_printf(&b, "%s", patterns[p]), 0);
        assert_int_equal(am_buf_printf(&b, "\"}]}"), 0);
        struct cad_incident_import in;
        char why[256];
        int64_t t0 = am_mono_us();
        int rc = cad_eido_import(b.data, b.len, &in, why, sizeof(why));
        int64_t took = am_mono_us() - t0;
        fprintf(stderr, "pattern '%s': rc=%d in %lld us (%s)\n", patterns[p], rc, (long long)took,
                rc ? why : "accepted");
        assert_true(took < 1000000);
        am_buf_release(&b);
    }
}

static void test_import_small_reason_buffers(void **state)
{
    (void)state;
    struct cad_incident_import in;
    char why[8];
    assert_int_equal(cad_eido_import("{}", 2, &in, why, sizeof(why)), AM_EINVAL);
    assert_true(strlen(why) < sizeof(why));
    assert_int_equal(cad_eido_import("{}", 2, &in, NULL, 0), AM_EINVAL);
    assert_int_equal(cad_eido_import(NULL, 0, &in, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(cad_eido_import(NULL, 5, &in, why, sizeof(why)), AM_EINVAL);
}

/* ------------------------------------------------------------- CAP */

static char *cap_of(const char *incident_text, const char *hfr, const char *har)
{
    json_t *inc = load(incident_text);
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(cad_cap_export(inc, "cic@casablanca.dgsn.ma", hfr, har, &b), 0);
    json_decref(inc);
    return am_buf_steal(&b);
}

static void test_cap_restricted_alert(void **state)
{
    (void)state;
    char *xml = cap_of(INCIDENT_FULL, "Agression, bd Zerktouni", "اعتداء، شارع الزرقطوني");
    assert_true(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
    assert_non_null(strstr(xml, "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"));
    static const char *const alert[] = {"alert",     "identifier", "sender", "sent",
                                        "status",    "msgType",    "scope",  "restriction",
                                        "incidents", "info",       NULL};
    expect_order(xml, alert);
    assert_string_equal(elem_text(xml, "sender"), "cic@casablanca.dgsn.ma");
    assert_string_equal(elem_text(xml, "status"), "Actual");
    assert_string_equal(elem_text(xml, "msgType"), "Alert");
    assert_string_equal(elem_text(xml, "scope"), "Restricted");
    assert_string_equal(elem_text(xml, "incidents"), "CAS-2026-000001");
    const char *id = elem_text(xml, "identifier");
    assert_true(strncmp(id, "CAS-2026-000001-", 16) == 0);
    assert_null(strpbrk(id, " ,<&"));
    /* <sent>: CAP's dateTime, no fraction, UTC written -00:00. */
    const char *sent = elem_text(xml, "sent");
    assert_int_equal(strlen(sent), 25);
    assert_string_equal(sent + 19, "-00:00");
    int64_t us;
    char iso[32];
    snprintf(iso, sizeof(iso), "%.19sZ", sent);
    assert_int_equal(am_time_parse(iso, &us), 0);
    assert_true(llabs(us - am_now_us()) < 120 * 1000000LL);

    /* Two info blocks, French then Arabic, each complete and in order. */
    const char *fr = strstr(xml, "<info>");
    const char *ar = strstr(fr + 1, "<info>");
    assert_non_null(ar);
    assert_null(strstr(ar + 1, "<info>"));
    static const char *const info[] = {
        "language", "category",    "event", "urgency",  "severity", "certainty", "eventCode",
        "headline", "description", "area",  "areaDesc", "circle",   "geocode",   NULL};
    expect_order(fr, info);
    expect_order(ar, info);
    assert_string_equal(elem_text(fr, "language"), "fr-MA");
    assert_string_equal(elem_text(ar, "language"), "ar-MA");
    assert_string_equal(elem_text(fr, "category"), "Security");
    assert_string_equal(elem_text(fr, "event"), "Agression");
    assert_string_equal(elem_text(ar, "event"), "اعتداء");
    assert_string_equal(elem_text(fr, "urgency"), "Immediate");
    assert_string_equal(elem_text(fr, "severity"), "Severe");
    assert_string_equal(elem_text(fr, "certainty"), "Likely");
    assert_string_equal(elem_text(fr, "headline"), "Agression, bd Zerktouni");
    assert_string_equal(elem_text(ar, "headline"), "اعتداء، شارع الزرقطوني");
    assert_string_equal(elem_text(fr, "circle"), "33.587300,-7.632000 0.5");
    assert_string_equal(elem_text(fr, "areaDesc"), "Boulevard Zerktouni, Casablanca");
    assert_string_equal(elem_text(fr, "value"), "ASSAULT");
    /* The narrative, escaped: no markup gets through. */
    assert_string_equal(elem_text(fr, "description"),
                        "Homme blessé au bras, agresseur en fuite.\n"
                        "Témoin: &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                        "&quot;quotes&quot; &apos;x&apos;");
    assert_null(strstr(xml, "<script>"));
    assert_null(xml_fault(xml));
    assert_true(xmllint_accepts(xml));
    free(xml);
}

static void test_cap_public_alert(void **state)
{
    (void)state;
    char *xml = cap_of(INCIDENT_MVA, NULL, "");
    assert_string_equal(elem_text(xml, "scope"), "Public");
    assert_null(strstr(xml, "<restriction>"));
    assert_string_equal(elem_text(xml, "category"), "Transport");
    assert_string_equal(elem_text(xml, "urgency"), "Immediate");
    assert_string_equal(elem_text(xml, "severity"), "Moderate");
    assert_string_equal(elem_text(xml, "certainty"), "Observed");
    /* The public is not told the room's narrative; headlines fall back to event and number. */
    assert_null(strstr(xml, "<description>"));
    assert_null(strstr(xml, "12345-A-6"));
    assert_string_equal(elem_text(xml, "headline"), "Accident de la circulation - RAB-2026-000077");
    const char *ar = strstr(strstr(xml, "<info>") + 1, "<info>");
    assert_string_equal(elem_text(ar, "headline"), "حادثة سير - RAB-2026-000077");
    assert_null(xml_fault(xml));
    assert_true(xmllint_accepts(xml));
    free(xml);
}

static void test_cap_without_coordinates(void **state)
{
    (void)state;
    char *xml = cap_of(INCIDENT_NO_LOCATION, "Tapage nocturne", "ضجيج ليلي");
    assert_null(strstr(xml, "<area>"));
    assert_string_equal(elem_text(xml, "urgency"), "Unknown");
    assert_string_equal(elem_text(xml, "severity"), "Unknown");
    assert_null(xml_fault(xml));
    free(xml);

    xml = cap_of(INCIDENT_ADDRESS_ONLY, NULL, NULL);
    assert_null(strstr(xml, "<circle>"));
    assert_string_equal(elem_text(xml, "areaDesc"), "ساحة جامع الفنا، مراكش");
    assert_string_equal(elem_text(xml, "valueName"), "APCO");
    assert_non_null(strstr(xml, "<valueName>ISO 3166-2</valueName>"));
    assert_non_null(strstr(xml, "<value>MA-07</value>"));
    assert_string_equal(elem_text(xml, "urgency"), "Expected");
    assert_string_equal(elem_text(xml, "certainty"), "Observed");
    assert_null(xml_fault(xml));
    assert_true(xmllint_accepts(xml));
    free(xml);
}

static void test_cap_drops_characters_xml_forbids(void **state)
{
    (void)state;
    /* A bell, U+FFFE, U+FFFF and a malformed byte go; a tab and Arabic stay. */
    char *xml = cap_of(INCIDENT_MVA,
                       "a\x07"
                       "b\xef\xbf\xbe"
                       "c\xef\xbf\xbf"
                       "d\xff"
                       "e\tf",
                       "عاجل");
    assert_string_equal(elem_text(xml, "headline"), "abcde\tf");
    assert_null(xml_fault(xml));
    assert_true(xmllint_accepts(xml));
    free(xml);
}

static void test_cap_refuses(void **state)
{
    (void)state;
    json_t *inc = load(INCIDENT_FULL);
    struct am_buf b;
    am_buf_init(&b, 0);
    static const char *const senders[] = {"", "a b", "x,y", "a<b", "a&b", "a\nb", NULL};
    for (size_t i = 0; senders[i]; i++)
        assert_int_equal(cad_cap_export(inc, senders[i], "h", "h", &b), AM_EINVAL);
    assert_int_equal(cad_cap_export(inc, NULL, "h", "h", &b), AM_EINVAL);
    assert_int_equal(b.len, 0);
    json_t *bad = load("{\"number\":\"A-1\",\"type\":\"ASSAULT\",\"times\":{}}");
    assert_int_equal(cad_cap_export(bad, "s", "h", "h", &b), AM_EINVAL);
    assert_int_equal(b.len, 0);
    /* A limited buffer: refused whole, never half an alert. */
    struct am_buf small;
    am_buf_init(&small, 200);
    assert_int_equal(am_buf_append(&small, "x", 1), 0);
    assert_int_equal(cad_cap_export(inc, "s", "h", "h", &small), AM_ETOOBIG);
    assert_int_equal(small.len, 1);
    am_buf_release(&small);
    /* Appended after what the buffer held. */
    assert_int_equal(am_buf_append(&b, "HEAD", 4), 0);
    assert_int_equal(cad_cap_export(inc, "s", NULL, NULL, &b), 0);
    assert_true(strncmp(b.data, "HEAD<?xml", 9) == 0);
    am_buf_release(&b);
    json_decref(bad);
    json_decref(inc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_structure),
        cmocka_unit_test(test_export_refuses_malformed_incidents),
        cmocka_unit_test(test_roundtrip_full),
        cmocka_unit_test(test_roundtrip_no_location),
        cmocka_unit_test(test_roundtrip_address_only_arabic),
        cmocka_unit_test(test_roundtrip_civic_address_from_pidf),
        cmocka_unit_test(test_import_vendor_2020),
        cmocka_unit_test(test_import_vendor_2021),
        cmocka_unit_test(test_import_vendor_geojson),
        cmocka_unit_test(test_import_long_notes_are_cut_and_marked),
        cmocka_unit_test(test_import_full_narrative_then_a_note),
        cmocka_unit_test(test_import_refuses_bad_documents),
        cmocka_unit_test(test_import_refuses_size_depth_and_counts),
        cmocka_unit_test(test_import_pathological_inputs_are_fast),
        cmocka_unit_test(test_import_small_reason_buffers),
        cmocka_unit_test(test_cap_restricted_alert),
        cmocka_unit_test(test_cap_public_alert),
        cmocka_unit_test(test_cap_without_coordinates),
        cmocka_unit_test(test_cap_drops_characters_xml_forbids),
        cmocka_unit_test(test_cap_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
