/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * exchange.c - an incident out as a NENA EIDO (JSON) and as an OASIS CAP 1.2
 * alert, and an EIDO in, so that a command centre can hand an incident over
 * to another centre, whichever vendor's CAD runs there, and warn others.
 *
 * What the EIDO looks like, and on what it rests.
 *
 * Confirmed from NENA's published EIDO JSON material (NENA-STA-021.1, the
 * EIDO itself; NENA-STA-024 is its conveyance over WebSocket, which wraps
 * each EIDO in an event carrying a transactionId): the schema
 * Schema/openapi.yaml version 1.0.0 and the two samples of the NENA911/EIDO-JSON
 * repository. From there: every data component starts with the prologue
 * "$id", "lastUpdateTimeStamp", "updatedByAgencyReference" {"$ref"}; the
 * document has "eidoVersion" "1.0", "issuingElementIdentification",
 * "agencyComponent" (required), "incidentComponent" (one object in the 1.0.0
 * schema, an array in the samples), and the arrays callComponent,
 * callbackComponent, dispatchComponent, notesComponent,
 * emergencyResourceComponent, agentComponent, locationComponent,
 * personComponent, linkComponent, mergeComponent, with the member names used
 * below. The document's "$id" is the incident tracking identifier
 * "urn:emergency:uid:incidentid:<id>:<agency>" (call transfer sample). Notes
 * (notesActionComments) are HTML5. A location by value is a PIDF-LO XML
 * document (RFC 4119; geodetic shapes per RFC 5491, "lat lon" in gml:pos;
 * civic per RFC 5139). A person's name is NIEM's, in JSON as
 * ncPersonComponent.name[].personFullName[].value. A caller's number is a
 * callback component's callBackInformationUri ("tel:+212..."). Incident
 * types are APCO common incident type codes (ASSAULT, ROBBERY, MVA, ...).
 * "eidoMessageIdentifier" does not exist in the 1.0 schema: a message is
 * identified by its conveyance (STA-024's transactionId), so we send none.
 *
 * Our interpretation, where the registries' values could not be confirmed:
 * the location type "Incident"; agencyType ["police"] (the IANA
 * urn:emergency:service:responder registry without its prefix) and agency
 * role "Dispatch"; agent role "Dispatching"; call state "callEnd",
 * standardPrimaryCallType "emergency", direction "incoming"; our priority as
 * incidentPriorityInternalText "P1".."P4" (we send no
 * incidentCommonPriorityNumber: its scale is not ours, the NENA sample uses
 * 10 for "very high"); our status in incidentStatusInternalText; the sector
 * as beatOrDispatchGroupText; our disposition code as the
 * dispositionCommonRegistryCode; the unit kind and status as the resource's
 * internal texts; "primary" and "released" in unitStatusInternal; merged_into
 * as a mergeComponent "REPLACED"; links as linkComponent "RELATED". The
 * narrative is the note the incident component references in notesReference;
 * the dispatchers' notes are further notes. The type's French and Arabic
 * labels ride in incidentComponent.amaneIncidentTypeText, NIEM-style
 * [{"value","lang"}], declared in eidoExtensionId (our name, not registered).
 *
 * The importer reads what the exporter writes and the variants seen in the
 * field: incidentComponent as an array, the 2020 draft's capitalised
 * prologue (LastUpdateTimeStamp, EIDOVersion, OwningAgencyIdentifier,
 * locationInformationComponent), a GeoJSON point as locationByValue, plain
 * text notes. The narrative it returns is the notes the incident references
 * (refused if they exceed the narrative's size), then the other notes, one
 * per line, oldest first as sent; other notes that do not fit are dropped,
 * and "[...]" says so.
 *
 * CAP follows the OASIS CAP 1.2 standard (1 July 2010) and its schema:
 * element order, code values, and <sent> as dateTime without fraction and
 * with a numeric offset: "Alphabetic timezone designators such as Z MUST NOT
 * be used. The timezone for UTC MUST be represented as -00:00", which we do.
 */
#include <ctype.h>
#include <math.h> /* isfinite */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cad/exchange.h"

#define URN_INCIDENT "urn:emergency:uid:incidentid:"
#define EIDO_CONTEXT "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"
#define AMANE_EXT_ID "urn:amane:eido:ext:incident-type-labels:1"

/* Bounds on what an imported EIDO may hold. */
#define MAX_COMPONENTS 256
#define MAX_NOTES      1024
#define MAX_REFS       64
#define MAX_XML_BYTES  (64 * 1024)
#define MAX_NOTE_BYTES (64 * 1024)
#define MAX_ID_BYTES   255

/* The largest CAP document we write. */
#define CAP_MAX_BYTES (1024 * 1024)

/* ---------------------------------------------------------------- text */

/* |x|, without needing libm. */
static double magnitude(double x)
{
    return x < 0 ? -x : x;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

/* Why `s` (n bytes) is not acceptable text, or NULL: UTF-8 without control characters. */
static const char *text_fault(const char *s, size_t n, bool allow_newline)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = u[i] ? am_utf8_decode((const char *)u + i, n - i, &cp) : 0;
        if (len == 0)
            return "not valid UTF-8";
        if (is_control(cp) && !(allow_newline && cp == '\n'))
            return "contains a control character";
        i += len;
    }
    return NULL;
}

/* A printable, bounded rendering of untrusted text for a one-line reason. */
static const char *quoted(const char *s, size_t n, char *buf, size_t bufsz)
{
    size_t o = 0, i = 0;
    for (; i < n && o + 4 < bufsz; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (i < n && bufsz >= 4) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* Copies checked text into dst, or explains why `field` is refused. */
static int take_text(char *dst, size_t dstsz, const char *s, size_t n, bool allow_newline,
                     const char *field, char *why, size_t whysz)
{
    if (n >= dstsz) {
        snprintf(why, whysz, "%s: longer than %zu bytes", field, dstsz - 1);
        return AM_EINVAL;
    }
    const char *fault = text_fault(s, n, allow_newline);
    if (fault) {
        snprintf(why, whysz, "%s: %s", field, fault);
        return AM_EINVAL;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* True if s is 1..max bytes of [A-Za-z0-9._-] (and '@' if at_ok): ids, codes, agencies. */
static bool is_token(const char *s, size_t max, bool at_ok)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_' && !(at_ok && c == '@'))
            return false;
    }
    return true;
}

/* Appends `s` escaped for XML text and attributes, dropping what XML 1.0 does not allow. */
static int xml_escape(struct am_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        uint32_t cp;
        size_t len = am_utf8_decode((const char *)u + i, n - i, &cp);
        if (len == 0) {
            i++; /* a malformed byte: dropped */
            continue;
        }
        switch (cp) {
        case '&':
            rc = am_buf_append(b, "&amp;", 5);
            break;
        case '<':
            rc = am_buf_append(b, "&lt;", 4);
            break;
        case '>':
            rc = am_buf_append(b, "&gt;", 4);
            break;
        case '"':
            rc = am_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            rc = am_buf_append(b, "&apos;", 6);
            break;
        case '\r':
            rc = am_buf_append(b, "&#13;", 5);
            break;
        default:
            /* XML 1.0 Char: #x9 #xA #xD [#x20-#xD7FF] [#xE000-#xFFFD] [#x10000-#x10FFFF]. */
            if (cp == 0x9 || cp == 0xa || (cp >= 0x20 && cp <= 0xd7ff) ||
                (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000)
                rc = am_buf_append(b, s + i, len);
        }
        i += len;
    }
    return rc;
}

/* Decodes an entity at s[0] == '&' (n bytes left): sets *cp and *used; false if not one. */
static bool entity_at(const char *s, size_t n, bool html, uint32_t *cp, size_t *used)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"amp", '&'},   {"lt", '<'},    {"gt", '>'}, {"quot", '"'},
                 {"apos", '\''}, {"nbsp", 0xa0}, {NULL, 0}};
    size_t end = 1;
    while (end < n && end < 12 && s[end] != ';')
        end++;
    if (end >= n || s[end] != ';' || end < 2)
        return false;
    const char *body = s + 1;
    size_t blen = end - 1;
    if (body[0] == '#') {
        uint32_t v = 0;
        bool hex = blen > 1 && (body[1] == 'x' || body[1] == 'X');
        size_t k = hex ? 2 : 1;
        if (k >= blen)
            return false;
        for (; k < blen; k++) {
            int d;
            char c = body[k];
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                return false;
            v = v * (hex ? 16 : 10) + (uint32_t)d;
            if (v > 0x10ffff)
                return false;
        }
        *cp = v;
        *used = end + 1;
        return true;
    }
    for (size_t i = 0; named[i].name; i++) {
        if (!html && named[i].cp == 0xa0)
            continue;
        if (strlen(named[i].name) == blen && memcmp(named[i].name, body, blen) == 0) {
            *cp = named[i].cp;
            *used = end + 1;
            return true;
        }
    }
    return false;
}

/*
 * Appends a decoded character reference, or AM_EINVAL for one that names no
 * character (0, a surrogate): such input is refused rather than guessed at.
 */
static int put_cp(struct am_buf *b, uint32_t cp)
{
    char u[4];
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return AM_EINVAL;
    return am_buf_append(b, u, am_utf8_encode(cp, u));
}

/* ---------------------------------------------------------------- notes as HTML */

/* Appends plain text as the HTML5 of notesActionComments: escaped, newlines as <br>. */
static int html_from_text(struct am_buf *b, const char *s)
{
    int rc = 0;
    for (const char *p = s; *p && rc == 0; p++) {
        switch (*p) {
        case '&':
            rc = am_buf_append(b, "&amp;", 5);
            break;
        case '<':
            rc = am_buf_append(b, "&lt;", 4);
            break;
        case '>':
            rc = am_buf_append(b, "&gt;", 4);
            break;
        case '"':
            rc = am_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            rc = am_buf_append(b, "&#39;", 5);
            break;
        case '\n':
            rc = am_buf_append(b, "<br>", 4);
            break;
        default:
            rc = am_buf_append(b, p, 1);
        }
    }
    return rc;
}

/*
 * Plain text of a note's HTML (or of plain text, which most of it is):
 * <br> and the end of a paragraph, division or list item become '\n', other
 * tags are dropped, character references decoded, CRLF and tabs normalised.
 * A '<' that starts no tag is text. Returns AM_EINVAL for a reference to no
 * character, AM_ETOOBIG past b->max.
 */
static int text_from_html(struct am_buf *b, const char *s, size_t n)
{
    int rc = 0;
    const char *gt = NULL; /* the next '>' at or after i, once looked for */
    bool gt_known = false;
    for (size_t i = 0; i < n && rc == 0;) {
        char c = s[i];
        if (c == '<' && i + 1 < n &&
            (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/' || s[i + 1] == '!' ||
             s[i + 1] == '?')) {
            /* Each byte is searched once: "<a<a<a..." without '>' stays linear. */
            if (!gt_known || (gt && gt < s + i)) {
                gt = memchr(s + i, '>', n - i);
                gt_known = true;
            }
            if (gt) {
                size_t j = i + 1;
                bool closing = s[j] == '/';
                if (closing)
                    j++;
                char name[8];
                size_t k = 0;
                while (j < (size_t)(gt - s) && k + 1 < sizeof(name) && isalpha((unsigned char)s[j]))
                    name[k++] = (char)tolower((unsigned char)s[j++]);
                name[k] = '\0';
                bool word_ends = j >= (size_t)(gt - s) || !isalpha((unsigned char)s[j]);
                if (word_ends && (strcmp(name, "br") == 0 ||
                                  (closing && (strcmp(name, "p") == 0 || strcmp(name, "div") == 0 ||
                                               strcmp(name, "li") == 0))))
                    rc = am_buf_append(b, "\n", 1);
                i = (size_t)(gt - s) + 1;
                continue;
            }
        }
        if (c == '&') {
            uint32_t cp;
            size_t used;
            if (entity_at(s + i, n - i, true, &cp, &used)) {
                rc = put_cp(b, cp == '\t' ? ' ' : cp);
                i += used;
                continue;
            }
        }
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n') {
            i++;
            continue;
        }
        rc = am_buf_append(b, c == '\t' ? " " : &s[i], 1);
        i++;
    }
    return rc;
}

/* ---------------------------------------------------------------- reading the incident */

/* String member or NULL (absent, null); *bad set if present with another type. */
static const char *opt_str(const json_t *o, const char *k, bool *bad)
{
    json_t *v = o ? json_object_get(o, k) : NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* Object member or NULL (absent, null); *bad set if present with another type. */
static json_t *opt_obj(const json_t *o, const char *k, bool *bad)
{
    json_t *v = o ? json_object_get(o, k) : NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_object(v)) {
        *bad = true;
        return NULL;
    }
    return v;
}

/* Array member or NULL (absent, null); *bad set if present with another type. */
static json_t *opt_arr(const json_t *o, const char *k, bool *bad)
{
    json_t *v = o ? json_object_get(o, k) : NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        *bad = true;
        return NULL;
    }
    return v;
}

/* An optional RFC 3339 time member: 0 and *us (-1 if absent), or AM_EINVAL (also before 1970). */
static int opt_time(const json_t *o, const char *k, int64_t *us)
{
    bool bad = false;
    const char *s = opt_str(o, k, &bad);
    *us = -1;
    if (bad)
        return AM_EINVAL;
    if (s && (am_time_parse(s, us) || *us < 0))
        return AM_EINVAL;
    return 0;
}

/* The parts of an incident both exporters need, checked once. */
struct incident_view {
    const char *number, *type, *type_fr, *type_ar, *status, *narrative, *disposition;
    const char *merged_into;
    int priority; /* 0 if absent */
    const char *caller_name, *caller_phone;
    bool has_ll;
    double lat, lon;
    const char *address;
    const json_t *place; /* the place object or NULL */
    int64_t call_us, created_us, latest_us;
    const json_t *units, *notes, *links; /* arrays or NULL */
};

static void latest(struct incident_view *v, int64_t us)
{
    if (us > v->latest_us)
        v->latest_us = us;
}

/* Checks `incident` as the exporters read it; AM_EINVAL names nothing (our own data). */
static int view_incident(const json_t *inc, struct incident_view *v)
{
    bool bad = false;
    memset(v, 0, sizeof(*v));
    if (!json_is_object(inc))
        return AM_EINVAL;
    v->number = opt_str(inc, "number", &bad);
    v->type = opt_str(inc, "type", &bad);
    v->type_fr = opt_str(inc, "type_fr", &bad);
    v->type_ar = opt_str(inc, "type_ar", &bad);
    v->status = opt_str(inc, "status", &bad);
    v->narrative = opt_str(inc, "narrative", &bad);
    v->disposition = opt_str(inc, "disposition", &bad);
    v->merged_into = opt_str(inc, "merged_into", &bad);
    if (bad || !is_token(v->number, 63, false) || !is_token(v->type, 31, false))
        return AM_EINVAL;
    if (v->merged_into && !is_token(v->merged_into, 63, false))
        return AM_EINVAL;
    json_t *prio = json_object_get(inc, "priority");
    if (prio && !json_is_null(prio)) {
        if (!json_is_integer(prio) || json_integer_value(prio) < 1 || json_integer_value(prio) > 4)
            return AM_EINVAL;
        v->priority = (int)json_integer_value(prio);
    }
    json_t *caller = opt_obj(inc, "caller", &bad);
    v->caller_name = opt_str(caller, "name", &bad);
    v->caller_phone = opt_str(caller, "phone", &bad);
    json_t *loc = opt_obj(inc, "location", &bad);
    v->address = opt_str(loc, "address", &bad);
    if (loc) {
        json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
        bool has_lat = lat && !json_is_null(lat), has_lon = lon && !json_is_null(lon);
        if (has_lat != has_lon)
            return AM_EINVAL;
        if (has_lat) {
            if (!json_is_number(lat) || !json_is_number(lon))
                return AM_EINVAL;
            v->lat = json_number_value(lat);
            v->lon = json_number_value(lon);
            if (!isfinite(v->lat) || !isfinite(v->lon) || magnitude(v->lat) > 90 ||
                magnitude(v->lon) > 180)
                return AM_EINVAL;
            v->has_ll = true;
        }
    }
    v->place = opt_obj(inc, "place", &bad);
    json_t *times = opt_obj(inc, "times", &bad);
    v->units = opt_arr(inc, "units", &bad);
    v->notes = opt_arr(inc, "notes", &bad);
    v->links = opt_arr(inc, "links", &bad);
    if (bad || !times)
        return AM_EINVAL;
    static const char *const time_keys[] = {"dispatched", "en_route", "on_scene", "closed", NULL};
    int64_t us;
    if (opt_time(times, "call", &v->call_us) || v->call_us < 0 ||
        opt_time(times, "created", &v->created_us))
        return AM_EINVAL;
    v->latest_us = v->call_us;
    if (v->created_us < 0)
        v->created_us = v->call_us;
    latest(v, v->created_us);
    for (size_t i = 0; time_keys[i]; i++) {
        if (opt_time(times, time_keys[i], &us))
            return AM_EINVAL;
        latest(v, us);
    }
    size_t i;
    json_t *e;
    json_array_foreach(v->units, i, e)
    {
        int64_t released;
        const char *callsign = opt_str(e, "callsign", &bad);
        json_t *primary = json_object_get(e, "primary");
        if (!json_is_object(e) || !callsign || bad || opt_time(e, "assigned", &us) ||
            opt_time(e, "released", &released) || (primary && !json_is_boolean(primary)))
            return AM_EINVAL;
        (void)opt_str(e, "kind", &bad);
        (void)opt_str(e, "status", &bad);
        if (bad)
            return AM_EINVAL;
        latest(v, us);
        latest(v, released);
    }
    json_array_foreach(v->notes, i, e)
    {
        if (!json_is_object(e) || !opt_str(e, "text", &bad) || opt_time(e, "ts", &us))
            return AM_EINVAL;
        (void)opt_str(e, "author", &bad);
        if (bad)
            return AM_EINVAL;
        latest(v, us);
    }
    json_array_foreach(v->links, i, e)
    {
        if (!json_is_string(e) || !is_token(json_string_value(e), 63, false))
            return AM_EINVAL;
    }
    return 0;
}

/* The place's member `level` ("region", "prefecture", "sector") and its `field`, or NULL. */
static const char *place_text(const struct incident_view *v, const char *level, const char *field)
{
    const json_t *p = v->place ? json_object_get(v->place, level) : NULL;
    const json_t *s = json_is_object(p) ? json_object_get(p, field) : NULL;
    return json_is_string(s) && json_string_length(s) > 0 ? json_string_value(s) : NULL;
}

/* ---------------------------------------------------------------- EIDO export */

/* Collects the first allocation failure while a document is built. */
struct jb {
    int rc;
};

static void jset(struct jb *b, json_t *o, const char *k, json_t *v)
{
    if (b->rc || !o) {
        json_decref(v);
        if (!b->rc)
            b->rc = AM_ENOMEM;
        return;
    }
    if (!v || json_object_set_new(o, k, v))
        b->rc = AM_ENOMEM;
}

static void jpush(struct jb *b, json_t *a, json_t *v)
{
    if (b->rc || !a) {
        json_decref(v);
        if (!b->rc)
            b->rc = AM_ENOMEM;
        return;
    }
    if (!v || json_array_append_new(a, v))
        b->rc = AM_ENOMEM;
}

static json_t *jref(const char *id)
{
    json_t *o = json_object();
    if (o && json_object_set_new(o, "$ref", json_string(id))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *jrefs1(const char *id)
{
    json_t *a = json_array();
    if (a && json_array_append_new(a, jref(id))) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *jtime(int64_t us)
{
    char t[AM_TIME_BUFSZ];
    return json_string(am_time_fmt(us, t, sizeof(t)));
}

/* A new data component with its prologue. */
static json_t *component(struct jb *b, const char *id, int64_t us, const char *agency)
{
    json_t *c = json_object();
    jset(b, c, "$id", json_string(id));
    jset(b, c, "lastUpdateTimeStamp", jtime(us));
    jset(b, c, "updatedByAgencyReference", jref(agency));
    return c;
}

/* Sanitises a user name into an agent identifier part: [A-Za-z0-9._-], at most 63 bytes. */
static void agent_part(const char *author, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *p = author; *p && o + 1 < outsz && o < 63; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = isalnum(c) || c == '.' || c == '-' || c == '_' ? (char)c : '_';
    }
    if (o == 0 && outsz > 1)
        out[o++] = '_';
    out[o] = '\0';
}

/* The PIDF-LO (RFC 4119, 5491, 5139) of the incident's location, for locationByValue. */
static int pidf_lo(const struct incident_view *v, const char *agency, struct am_buf *x)
{
    char t[AM_TIME_BUFSZ];
    am_time_fmt(v->created_us, t, sizeof(t));
    int rc = am_buf_printf(x,
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                           "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
                           " xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\""
                           " xmlns:gml=\"http://www.opengis.net/gml\""
                           " xmlns:ca=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\""
                           " xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\""
                           " entity=\"pres:%s@%s\">",
                           v->number, agency);
    if (!rc && v->has_ll)
        rc = am_buf_printf(x,
                           "<dm:device id=\"point\"><gp:geopriv><gp:location-info>"
                           "<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\">"
                           "<gml:pos>%.7f %.7f</gml:pos></gml:Point></gp:location-info>"
                           "<gp:usage-rules/><gp:method>Manual</gp:method></gp:geopriv>"
                           "<dm:timestamp>%s</dm:timestamp></dm:device>",
                           v->lat, v->lon, t);
    const char *a1 = place_text(v, "region", "fr"), *a2 = place_text(v, "prefecture", "fr");
    bool civic = (v->address && *v->address) || a1 || a2;
    if (!rc && civic) {
        rc = am_buf_printf(x, "<dm:device id=\"civic\"><gp:geopriv><gp:location-info>"
                              "<ca:civicAddress xml:lang=\"fr\"><ca:country>MA</ca:country>");
        if (!rc && a1 && !(rc = am_buf_printf(x, "<ca:A1>")) && !(rc = xml_escape(x, a1)))
            rc = am_buf_printf(x, "</ca:A1>");
        if (!rc && a2 && !(rc = am_buf_printf(x, "<ca:A2>")) && !(rc = xml_escape(x, a2)))
            rc = am_buf_printf(x, "</ca:A2>");
        if (!rc && v->address && *v->address && !(rc = am_buf_printf(x, "<ca:LOC>")) &&
            !(rc = xml_escape(x, v->address)))
            rc = am_buf_printf(x, "</ca:LOC>");
        if (!rc)
            rc = am_buf_printf(x,
                               "</ca:civicAddress></gp:location-info><gp:usage-rules/>"
                               "<gp:method>Manual</gp:method></gp:geopriv>"
                               "<dm:timestamp>%s</dm:timestamp></dm:device>",
                               t);
    }
    if (!rc)
        rc = am_buf_printf(x, "</presence>");
    return rc;
}

/* Our unit status in words the Primary Unit Status registry might hold (not confirmed). */
static const char *unit_status_common(const char *status, bool released)
{
    if (released)
        return "Available";
    if (!status)
        return "Dispatched";
    if (strcmp(status, "en_route") == 0)
        return "Enroute";
    if (strcmp(status, "on_scene") == 0)
        return "OnScene";
    return "Dispatched";
}

int cad_eido_export(const json_t *incident, const char *agency, json_t **out)
{
    struct incident_view v;
    struct jb b = {0};
    struct am_buf x;
    char tracking[256], id[384], agent[64];
    json_t *doc = NULL;
    int rc;

    *out = NULL;
    am_buf_init(&x, 0);
    if (!is_token(agency, 127, false)) {
        rc = AM_EINVAL;
        goto out;
    }
    rc = view_incident(incident, &v);
    if (rc)
        goto out;
    snprintf(tracking, sizeof(tracking), URN_INCIDENT "%s:%s", v.number, agency);

    doc = json_object();
    jset(&b, doc, "$id", json_string(tracking));
    jset(&b, doc, "lastUpdateTimeStamp", jtime(v.latest_us));
    jset(&b, doc, "updatedByAgencyReference", jref(agency));
    jset(&b, doc, "eidoVersion", json_string("1.0"));
    jset(&b, doc, "eidoExtensionId", json_pack("[s]", AMANE_EXT_ID));
    snprintf(id, sizeof(id), "cad.%s", agency);
    jset(&b, doc, "issuingElementIdentification", json_string(id));

    if (v.merged_into) {
        json_t *merges = json_array(), *m;
        snprintf(id, sizeof(id), "%.96s.merge@%s", v.number, agency);
        m = component(&b, id, v.latest_us, agency);
        snprintf(id, sizeof(id), URN_INCIDENT "%s:%s", v.merged_into, agency);
        jset(&b, m, "incidentTrackingIdentifier", json_string(id));
        jset(&b, m, "incidentMergeDirectionCode", json_string("REPLACED"));
        jpush(&b, merges, m);
        jset(&b, doc, "mergeComponent", merges);
    }
    if (json_array_size(v.links) > 0) {
        json_t *links = json_array(), *e;
        size_t i;
        json_array_foreach(v.links, i, e)
        {
            snprintf(id, sizeof(id), "%.96s.link.%zu@%s", v.number, i + 1, agency);
            json_t *l = component(&b, id, v.latest_us, agency);
            snprintf(id, sizeof(id), URN_INCIDENT "%s:%s", json_string_value(e), agency);
            jset(&b, l, "incidentTrackingIdentifier", json_string(id));
            jset(&b, l, "linkDirectionCode", json_string("RELATED"));
            jpush(&b, links, l);
        }
        jset(&b, doc, "linkComponent", links);
    }

    /* The incident. */
    char loc_id[128], caller_id[128], callback_id[128], narrative_id[128];
    snprintf(loc_id, sizeof(loc_id), "%.96s.location@%s", v.number, agency);
    snprintf(caller_id, sizeof(caller_id), "%.96s.caller@%s", v.number, agency);
    snprintf(callback_id, sizeof(callback_id), "%.96s.callback@%s", v.number, agency);
    snprintf(narrative_id, sizeof(narrative_id), "%.96s.narrative@%s", v.number, agency);
    bool has_loc = v.has_ll || (v.address && *v.address) || place_text(&v, "region", "fr") ||
                   place_text(&v, "prefecture", "fr");
    bool has_caller = (v.caller_name && *v.caller_name) || (v.caller_phone && *v.caller_phone);
    bool has_narrative = v.narrative && *v.narrative;

    snprintf(id, sizeof(id), "%.96s.incident@%s", v.number, agency);
    json_t *inc = component(&b, id, v.latest_us, agency);
    jset(&b, inc, "incidentTypeCommonRegistryText", json_string(v.type));
    jset(&b, inc, "incidentTypeInternalCode", json_string(v.type));
    jset(&b, inc, "incidentTypeInternalText",
         json_string(v.type_fr && *v.type_fr ? v.type_fr : v.type));
    if (v.status)
        jset(&b, inc, "incidentStatusInternalText", json_pack("[s]", v.status));
    jset(&b, inc, "internalIncidentId", json_string(v.number));
    if (v.priority) {
        char p[4];
        snprintf(p, sizeof(p), "P%d", v.priority);
        jset(&b, inc, "incidentPriorityInternalText", json_string(p));
    }
    const char *sector = place_text(&v, "sector", "code");
    if (sector)
        jset(&b, inc, "beatOrDispatchGroupText", json_string(sector));
    if (has_loc)
        jset(&b, inc, "locationReference", jrefs1(loc_id));
    if (has_caller)
        jset(&b, inc, "personReference", jrefs1(caller_id));
    if (has_narrative)
        jset(&b, inc, "notesReference", jrefs1(narrative_id));
    if (v.disposition && *v.disposition) {
        json_t *disp = json_array(), *d;
        snprintf(id, sizeof(id), "%.96s.disposition@%s", v.number, agency);
        d = component(&b, id, v.latest_us, agency);
        jset(&b, d, "dispositionCommonRegistryCode", json_string(v.disposition));
        jset(&b, d, "dispositionPrimaryIndicator", json_true());
        jpush(&b, disp, d);
        jset(&b, inc, "dispositionComponent", disp);
    }
    json_t *labels = json_array();
    jpush(&b, labels,
          json_pack("{s:s,s:s}", "value", v.type_fr && *v.type_fr ? v.type_fr : v.type, "lang",
                    "fr"));
    if (v.type_ar && *v.type_ar)
        jpush(&b, labels, json_pack("{s:s,s:s}", "value", v.type_ar, "lang", "ar"));
    jset(&b, inc, "amaneIncidentTypeText", labels);
    jset(&b, doc, "incidentComponent", inc);

    /* The call, and how to call the caller back. */
    json_t *calls = json_array();
    snprintf(id, sizeof(id), "%.96s.call@%s", v.number, agency);
    json_t *call = component(&b, id, v.call_us, agency);
    jset(&b, call, "standardPrimaryCallType", json_string("emergency"));
    jset(&b, call, "direction", json_string("incoming"));
    jset(&b, call, "callStartTimestamp", jtime(v.call_us));
    jset(&b, call, "callStateRegistryText", json_string("callEnd"));
    if (has_caller)
        jset(&b, call, "personReference", jrefs1(caller_id));
    if (v.caller_phone && *v.caller_phone)
        jset(&b, call, "callBackReference", jref(callback_id));
    jpush(&b, calls, call);
    jset(&b, doc, "callComponent", calls);
    if (v.caller_phone && *v.caller_phone) {
        json_t *cbs = json_array();
        json_t *cb = component(&b, callback_id, v.call_us, agency);
        char uri[64];
        snprintf(uri, sizeof(uri), "tel:%.40s", v.caller_phone);
        jset(&b, cb, "callBackInformationUri", json_pack("[s]", uri));
        jpush(&b, cbs, cb);
        jset(&b, doc, "callbackComponent", cbs);
    }

    /* Units: one dispatch per assignment, one emergency resource per unit. */
    if (json_array_size(v.units) > 0) {
        json_t *dispatches = json_array(), *resources = json_array(), *u;
        size_t i;
        json_array_foreach(v.units, i, u)
        {
            bool bad = false;
            int64_t assigned, released;
            const char *callsign = opt_str(u, "callsign", &bad);
            const char *kind = opt_str(u, "kind", &bad);
            const char *status = opt_str(u, "status", &bad);
            bool primary = json_is_true(json_object_get(u, "primary"));
            opt_time(u, "assigned", &assigned);
            opt_time(u, "released", &released);
            if (assigned < 0)
                assigned = v.created_us;
            char rid[128];
            snprintf(rid, sizeof(rid), "%.96s.unit.%zu@%s", v.number, i + 1, agency);
            json_t *r = component(&b, rid, released >= 0 ? released : assigned, agency);
            jset(&b, r, "emergencyResourceTypeCommonRegistryText", json_string("LawEnforcement"));
            if (kind)
                jset(&b, r, "emergencyResourceTypeInternalText", json_string(kind));
            jset(&b, r, "resourceAttributeRegistryText", json_array());
            jset(&b, r, "emergencyResourceName", json_string(callsign));
            jset(&b, r, "primaryUnitStatusRegistryText",
                 json_string(unit_status_common(status, released >= 0)));
            jset(&b, r, "secondaryUnitStatusRegistryText", json_array());
            json_t *internal = json_array();
            jpush(&b, internal,
                  json_string(released >= 0 ? "released"
                              : status      ? status
                                            : "assigned"));
            if (primary)
                jpush(&b, internal, json_string("primary"));
            jset(&b, r, "unitStatusInternal", internal);
            jset(&b, r, "agentReference", json_array());
            jpush(&b, resources, r);

            snprintf(id, sizeof(id), "%.96s.dispatch.%zu@%s", v.number, i + 1, agency);
            json_t *d = component(&b, id, assigned, agency);
            jset(&b, d, "agencyReference", jref(agency));
            jset(&b, d, "emergencyResourceReference", jrefs1(rid));
            jpush(&b, dispatches, d);
        }
        jset(&b, doc, "dispatchComponent", dispatches);
        jset(&b, doc, "emergencyResourceComponent", resources);
    }

    /* Notes: the narrative first, then the room's notes, each with its agent. */
    json_t *notes = json_array(), *agents = json_array();
    if (has_narrative) {
        json_t *n = component(&b, narrative_id, v.created_us, agency);
        am_buf_release(&x);
        if (html_from_text(&x, v.narrative))
            b.rc = b.rc ? b.rc : AM_ENOMEM;
        jset(&b, n, "notesActionComments", json_string(x.data ? x.data : ""));
        jpush(&b, notes, n);
    }
    json_t *e;
    size_t i;
    json_array_foreach(v.notes, i, e)
    {
        bool bad = false;
        int64_t ts;
        const char *text = opt_str(e, "text", &bad), *author = opt_str(e, "author", &bad);
        opt_time(e, "ts", &ts);
        snprintf(id, sizeof(id), "%.96s.note.%zu@%s", v.number, i + 1, agency);
        json_t *n = component(&b, id, ts >= 0 ? ts : v.latest_us, agency);
        am_buf_release(&x);
        if (html_from_text(&x, text))
            b.rc = b.rc ? b.rc : AM_ENOMEM;
        jset(&b, n, "notesActionComments", json_string(x.data ? x.data : ""));
        if (author && *author) {
            agent_part(author, agent, sizeof(agent));
            snprintf(id, sizeof(id), "%s@%s", agent, agency);
            jset(&b, n, "updatedByAgentReference", jref(id));
            jset(&b, n, "agentReference", jref(id));
            bool seen = false;
            size_t k;
            json_t *a;
            json_array_foreach(agents, k, a)
            {
                const char *aid = json_string_value(json_object_get(a, "$id"));
                seen = seen || (aid && strcmp(aid, id) == 0);
            }
            if (!seen) {
                json_t *ag = component(&b, id, ts >= 0 ? ts : v.latest_us, agency);
                jset(&b, ag, "agentRoleRegistryText", json_pack("[s]", "Dispatching"));
                jset(&b, ag, "agencyReference", jref(agency));
                jpush(&b, agents, ag);
            }
        }
        jpush(&b, notes, n);
    }
    if (json_array_size(notes) > 0)
        jset(&b, doc, "notesComponent", notes);
    else
        json_decref(notes);

    /* This centre, owner of the incident. */
    json_t *agencies = json_array();
    json_t *ag = component(&b, agency, v.latest_us, agency);
    jset(&b, ag, "agencyRoleDescriptionRegistryText", json_pack("[s]", "Dispatch"));
    jset(&b, ag, "agencyType", json_pack("[s]", "police"));
    jset(&b, ag, "incidentOwningAgencyIndicator", json_true());
    jpush(&b, agencies, ag);
    jset(&b, doc, "agencyComponent", agencies);
    if (json_array_size(agents) > 0)
        jset(&b, doc, "agentComponent", agents);
    else
        json_decref(agents);

    if (has_loc) {
        json_t *locs = json_array();
        json_t *l = component(&b, loc_id, v.created_us, agency);
        jset(&b, l, "locationTypeDescriptionRegistryText", json_string("Incident"));
        am_buf_release(&x);
        if (pidf_lo(&v, agency, &x))
            b.rc = b.rc ? b.rc : AM_ENOMEM;
        jset(&b, l, "locationByValue", json_string(x.data ? x.data : ""));
        if (v.address && *v.address)
            jset(&b, l, "locationDescriptionText", json_string(v.address));
        jpush(&b, locs, l);
        jset(&b, doc, "locationComponent", locs);
    }
    if (has_caller) {
        json_t *persons = json_array();
        json_t *p = component(&b, caller_id, v.call_us, agency);
        jset(&b, p, "personIncidentRoleRegistryText", json_pack("[s]", "Caller"));
        if (v.caller_name && *v.caller_name)
            jset(&b, p, "ncPersonComponent",
                 json_pack("{s:[{s:[{s:s}]}]}", "name", "personFullName", "value", v.caller_name));
        if (v.caller_phone && *v.caller_phone)
            jset(&b, p, "callBackReference", jref(callback_id));
        jpush(&b, persons, p);
        jset(&b, doc, "personComponent", persons);
    }
    jset(&b, doc, "@context", json_pack("{s:s}", "@vocab", EIDO_CONTEXT));
    rc = b.rc;
out:
    am_buf_release(&x);
    if (rc)
        json_decref(doc);
    else
        *out = doc;
    return rc;
}

/* ---------------------------------------------------------------- EIDO import: JSON access */

/* A member that may be an array or, in some senders' documents, a single object. */
struct jlist {
    json_t *v;
    size_t n;
};

static json_t *jl_at(const struct jlist *l, size_t i)
{
    return json_is_array(l->v) ? json_array_get(l->v, i) : l->v;
}

/* The reading of one document: where it is, and where to say what is wrong. */
struct reader {
    char *why;
    size_t whysz;
};

static int refuse(struct reader *r, const char *path, const char *what)
{
    snprintf(r->why, r->whysz, "%s: %s", path, what);
    return AM_EINVAL;
}

/* String member: 1 found, 0 absent or null, AM_EINVAL of another type or too long. */
static int rd_str(struct reader *r, const json_t *o, const char *k, const char *path,
                  const char **s, size_t *n)
{
    json_t *v = json_object_get(o, k);
    char p[160];
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    snprintf(p, sizeof(p), "%.96s%s%s", path, *path ? "." : "", k);
    if (!json_is_string(v))
        return refuse(r, p, "a string was expected");
    *s = json_string_value(v);
    *n = json_string_length(v);
    if (strlen(*s) != *n)
        return refuse(r, p, "contains a NUL character");
    return 1;
}

/* Array (or, if single_ok, lone object) member of at most max elements: n is 0 if absent. */
static int rd_list(struct reader *r, const json_t *o, const char *k, const char *path, size_t max,
                   bool single_ok, struct jlist *l)
{
    json_t *v = json_object_get(o, k);
    char p[160];
    l->v = NULL;
    l->n = 0;
    if (!v || json_is_null(v))
        return 0;
    snprintf(p, sizeof(p), "%.96s%s%s", path, *path ? "." : "", k);
    if (json_is_array(v)) {
        if (json_array_size(v) > max) {
            snprintf(r->why, r->whysz, "%s: more than %zu elements", p, max);
            return AM_EINVAL;
        }
        l->v = v;
        l->n = json_array_size(v);
        return 0;
    }
    if (single_ok && json_is_object(v)) {
        l->v = v;
        l->n = 1;
        return 0;
    }
    return refuse(r, p, single_ok ? "an array or an object was expected" : "an array was expected");
}

/* The i-th element of a component list, which must be an object. */
static int rd_elem(struct reader *r, const struct jlist *l, size_t i, const char *name, json_t **e,
                   char *path, size_t pathsz)
{
    *e = jl_at(l, i);
    snprintf(path, pathsz, "%s[%zu]", name, i);
    if (!json_is_object(*e))
        return refuse(r, path, "an object was expected");
    return 0;
}

/* The "$ref" strings of a reference or an array of references, at most MAX_REFS. */
static int rd_refs(struct reader *r, const json_t *o, const char *k, const char *path,
                   const char **refs, size_t *nrefs)
{
    struct jlist l;
    char p[160];
    *nrefs = 0;
    int rc = rd_list(r, o, k, path, MAX_REFS, true, &l);
    if (rc)
        return rc;
    for (size_t i = 0; i < l.n; i++) {
        json_t *e = jl_at(&l, i);
        const char *s;
        size_t n;
        snprintf(p, sizeof(p), "%.96s.%s[%zu]", path, k, i);
        if (!json_is_object(e))
            return refuse(r, p, "a reference {\"$ref\": ...} was expected");
        rc = rd_str(r, e, "$ref", p, &s, &n);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return refuse(r, p, "a reference {\"$ref\": ...} was expected");
        refs[(*nrefs)++] = s;
    }
    return 0;
}

static bool in_refs(const char *id, const char *const *refs, size_t n)
{
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(refs[i], id) == 0)
            return true;
    return false;
}

/*
 * NIEM text: a string, {"value": string}, or an array whose first element is
 * one of those. 1 found, 0 absent, AM_EINVAL otherwise.
 */
static int rd_ntext(struct reader *r, const json_t *o, const char *k, const char *path,
                    const char **s, size_t *n)
{
    json_t *v = json_object_get(o, k);
    char p[160];
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    snprintf(p, sizeof(p), "%.96s.%s", path, k);
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return 0;
        v = json_array_get(v, 0);
    }
    if (json_is_object(v))
        v = json_object_get(v, "value");
    if (!json_is_string(v))
        return refuse(r, p, "text (a string or {\"value\": string}) was expected");
    *s = json_string_value(v);
    *n = json_string_length(v);
    return strlen(*s) == *n ? 1 : refuse(r, p, "contains a NUL character");
}

/* ---------------------------------------------------------------- EIDO import: XML and numbers */

/* A decimal number, strictly: [+-]digits[.digits][e[+-]digits], at most 31 bytes, finite. */
static bool parse_decimal(const char *s, size_t n, double *out)
{
    char buf[32];
    size_t i = 0;
    if (n == 0 || n >= sizeof(buf))
        return false;
    if (s[i] == '+' || s[i] == '-')
        i++;
    size_t digits = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, ed++;
        if (ed == 0)
            return false;
    }
    if (i != n)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n && isfinite(*out);
}

/*
 * Finds the next element named `local` (any namespace prefix) in x[from, n):
 * its text content is [*cs, *ce), up to the first '<' (we read leaf elements
 * only). Returns true if found.
 */
static bool xml_find(const char *x, size_t n, size_t from, const char *local, size_t *cs,
                     size_t *ce)
{
    size_t llen = strlen(local);
    for (size_t i = from; i < n; i++) {
        if (x[i] != '<' || i + 1 >= n || x[i + 1] == '/' || x[i + 1] == '?' || x[i + 1] == '!')
            continue;
        /* A name ends at '<' too, and is short: "<a<a<a..." must not cost n squared. */
        size_t j = i + 1, k = j;
        while (k < n && k - j < 64 && x[k] != '>' && x[k] != '/' && x[k] != '<' &&
               !isspace((unsigned char)x[k]))
            k++;
        size_t name = j;
        for (size_t c = j; c < k; c++)
            if (x[c] == ':')
                name = c + 1;
        if (k - name != llen || memcmp(x + name, local, llen) != 0)
            continue;
        const char *gt = memchr(x + k, '>', n - k);
        if (!gt)
            return false;
        size_t m = (size_t)(gt - x);
        if (x[m - 1] == '/') {
            *cs = *ce = m + 1;
            return true;
        }
        *cs = m + 1;
        const char *lt = *cs < n ? memchr(x + *cs, '<', n - *cs) : NULL;
        *ce = lt ? (size_t)(lt - x) : n;
        return true;
    }
    return false;
}

/* XML text content, entities decoded and white space collapsed, into b. */
static int xml_text(struct am_buf *b, const char *s, size_t n)
{
    int rc = 0;
    bool space = false;
    size_t start = b->len;
    for (size_t i = 0; i < n && rc == 0;) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = b->len > start;
            i++;
            continue;
        }
        if (space) {
            rc = am_buf_append(b, " ", 1);
            space = false;
        }
        uint32_t cp;
        size_t used;
        if (c == '&' && entity_at(s + i, n - i, false, &cp, &used)) {
            if (!rc)
                rc = put_cp(b, cp);
            i += used;
            continue;
        }
        if (!rc)
            rc = am_buf_append(b, s + i, 1);
        i++;
    }
    return rc;
}

/* One location as read from a location component. */
struct place_read {
    const char *id, *type;
    size_t type_len;
    bool has_ll;
    double lat, lon;
    char address[256];
};

static int check_ll(struct reader *r, const char *path, double lat, double lon)
{
    char m[96];
    if (magnitude(lat) > 90) {
        snprintf(m, sizeof(m), "latitude %.6g out of range", lat);
        return refuse(r, path, m);
    }
    if (magnitude(lon) > 180) {
        snprintf(m, sizeof(m), "longitude %.6g out of range", lon);
        return refuse(r, path, m);
    }
    return 0;
}

/* Coordinates and civic address from a PIDF-LO document. */
static int read_pidf(struct reader *r, const char *x, size_t n, const char *path,
                     struct place_read *pl, struct am_buf *tmp)
{
    size_t cs, ce;
    int rc;
    if (n > MAX_XML_BYTES)
        return refuse(r, path, "PIDF-LO larger than 64 KiB");
    if (xml_find(x, n, 0, "pos", &cs, &ce)) {
        double v[3];
        size_t nv = 0, i = cs;
        while (i < ce) {
            while (i < ce && isspace((unsigned char)x[i]))
                i++;
            size_t t = i;
            while (i < ce && !isspace((unsigned char)x[i]))
                i++;
            if (i == t)
                break;
            if (nv == 3 || !parse_decimal(x + t, i - t, &v[nv]))
                return refuse(r, path, "gml:pos must hold two or three decimal numbers");
            nv++;
        }
        if (nv < 2)
            return refuse(r, path, "gml:pos must hold two or three decimal numbers");
        rc = check_ll(r, path, v[0], v[1]);
        if (rc)
            return rc;
        pl->has_ll = true;
        pl->lat = v[0];
        pl->lon = v[1];
    }
    size_t civic;
    if (!xml_find(x, n, 0, "civicAddress", &civic, &ce))
        return 0;
    /* LOC holds a whole address line (ours do); otherwise the street, then the city. */
    static const char *const street[] = {"HNO", "HNS", "PRD", "RD", "STS", "POD", NULL};
    static const char *const area[] = {"A3", "A2", "A1", NULL};
    const char *const *groups[] = {street, area};
    am_buf_release(tmp);
    if (xml_find(x, n, civic, "LOC", &cs, &ce) && ce > cs) {
        rc = xml_text(tmp, x + cs, ce - cs);
    } else {
        rc = 0;
        for (size_t g = 0; g < 2 && rc == 0; g++) {
            size_t before = tmp->len;
            for (size_t k = 0; groups[g][k] && rc == 0; k++) {
                if (!xml_find(x, n, civic, groups[g][k], &cs, &ce) || ce == cs)
                    continue;
                size_t at = tmp->len;
                if (at > before)
                    rc = am_buf_append(tmp, " ", 1);
                if (!rc)
                    rc = xml_text(tmp, x + cs, ce - cs);
                /* One part of the area is enough: the most local one present. */
                if (g == 1 && tmp->len > at)
                    break;
            }
            if (!rc && g == 0 && tmp->len > 0)
                rc = am_buf_append(tmp, ", ", 2);
        }
        while (!rc && tmp->len >= 2 && memcmp(tmp->data + tmp->len - 2, ", ", 2) == 0)
            tmp->len -= 2;
    }
    char p[192];
    snprintf(p, sizeof(p), "%.96s (civicAddress)", path);
    if (rc == AM_EINVAL)
        return refuse(r, p, "invalid character reference");
    if (rc == AM_ETOOBIG)
        return refuse(r, p, "longer than 255 bytes");
    if (rc)
        return rc;
    if (pl->address[0] == '\0' && tmp->len > 0)
        return take_text(pl->address, sizeof(pl->address), tmp->data, tmp->len, false, p, r->why,
                         r->whysz);
    return 0;
}

/* A GeoJSON point as locationByValue (some senders): {"type":"Point","coordinates":[lon,lat]}. */
static int read_geojson(struct reader *r, const json_t *g, const char *path, struct place_read *pl)
{
    json_t *type = json_object_get(g, "type"), *c = json_object_get(g, "coordinates");
    if (!json_is_string(type) || strcmp(json_string_value(type), "Point") != 0)
        return refuse(r, path, "a GeoJSON object must be a Point");
    if (!json_is_array(c) || json_array_size(c) < 2 || json_array_size(c) > 3)
        return refuse(r, path, "coordinates must be [lon, lat] or [lon, lat, alt]");
    for (size_t i = 0; i < json_array_size(c); i++)
        if (!json_is_number(json_array_get(c, i)))
            return refuse(r, path, "coordinates must be numbers");
    double lon = json_number_value(json_array_get(c, 0));
    double lat = json_number_value(json_array_get(c, 1));
    int rc = check_ll(r, path, lat, lon);
    if (rc)
        return rc;
    pl->has_ll = true;
    pl->lat = lat;
    pl->lon = lon;
    return 0;
}

/* ---------------------------------------------------------------- EIDO import: components */

static int read_location(struct reader *r, json_t *c, const char *path, struct place_read *pl,
                         struct am_buf *tmp)
{
    const char *s;
    size_t n;
    char p[192];
    int rc;
    memset(pl, 0, sizeof(*pl));
    if ((rc = rd_str(r, c, "$id", path, &pl->id, &n)) < 0 ||
        (rc = rd_str(r, c, "locationTypeDescriptionRegistryText", path, &pl->type, &pl->type_len)) <
            0)
        return rc;
    rc = rd_str(r, c, "locationDescriptionText", path, &s, &n);
    if (rc < 0)
        return rc;
    if (rc > 0 && n > 0) {
        snprintf(p, sizeof(p), "%.96s.locationDescriptionText", path);
        rc = take_text(pl->address, sizeof(pl->address), s, n, false, p, r->why, r->whysz);
        if (rc)
            return rc;
    }
    json_t *by = json_object_get(c, "locationByValue");
    snprintf(p, sizeof(p), "%.96s.locationByValue", path);
    if (json_is_object(by))
        return read_geojson(r, by, p, pl);
    if (by && !json_is_null(by) && !json_is_string(by))
        return refuse(r, p, "PIDF-LO text or a GeoJSON point was expected");
    if (json_is_string(by))
        return read_pidf(r, json_string_value(by), json_string_length(by), p, pl, tmp);
    return 0;
}

/* A plausible phone number from a callback URI: 1 found, 0 none (a SIP name), <0 refused. */
static int phone_from_uri(struct reader *r, const char *uri, size_t n, const char *path, char *dst,
                          size_t dstsz)
{
    bool tel = false;
    size_t i = 0;
    if (n >= 4 && strncasecmp(uri, "tel:", 4) == 0) {
        tel = true;
        i = 4;
    } else if (n >= 4 && strncasecmp(uri, "sip:", 4) == 0) {
        i = 4;
    } else if (n >= 5 && strncasecmp(uri, "sips:", 5) == 0) {
        i = 5;
    } else {
        tel = true; /* a bare number */
    }
    char num[32];
    size_t o = 0, digits = 0;
    bool ok = true;
    for (; i < n; i++) {
        char c = uri[i];
        if (c == ';' || (!tel && c == '@'))
            break;
        if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ')
            continue; /* RFC 3966 visual separators */
        if (c == '+' && o == 0) {
            num[o++] = c;
            continue;
        }
        if (!isdigit((unsigned char)c) || o + 1 >= sizeof(num)) {
            ok = false;
            break;
        }
        num[o++] = c;
        digits++;
    }
    num[o] = '\0';
    if (!ok || digits < 3 || digits > 20) {
        if (!tel)
            return 0;
        return refuse(r, path, "implausible phone number (want '+' and 3 to 20 digits)");
    }
    if (o >= dstsz)
        return refuse(r, path, "phone number too long");
    memcpy(dst, num, o + 1);
    return 1;
}

/* The caller's phone from a callback component. */
static int read_callback(struct reader *r, json_t *cb, const char *path,
                         struct cad_incident_import *out)
{
    struct jlist l;
    char p[192];
    int rc;
    if (json_is_string(json_object_get(cb, "callBackInformationUri"))) {
        /* A single URI where an array is due: tolerated. */
        const char *s;
        size_t n;
        rc = rd_str(r, cb, "callBackInformationUri", path, &s, &n);
        if (rc <= 0)
            return rc;
        snprintf(p, sizeof(p), "%.96s.callBackInformationUri", path);
        rc = phone_from_uri(r, s, n, p, out->caller_phone, sizeof(out->caller_phone));
        return rc < 0 ? rc : 0;
    }
    rc = rd_list(r, cb, "callBackInformationUri", path, 16, false, &l);
    if (rc)
        return rc;
    for (size_t i = 0; i < l.n; i++) {
        json_t *u = json_array_get(l.v, i);
        snprintf(p, sizeof(p), "%.96s.callBackInformationUri[%zu]", path, i);
        if (!json_is_string(u))
            return refuse(r, p, "a string was expected");
        rc = phone_from_uri(r, json_string_value(u), json_string_length(u), p, out->caller_phone,
                            sizeof(out->caller_phone));
        if (rc < 0)
            return rc;
        if (rc > 0)
            return 0;
    }
    return 0;
}

/* True if the person's roles (array of strings, or one string) include "Caller". */
static int person_is_caller(struct reader *r, json_t *pe, const char *path, bool *caller)
{
    struct jlist l;
    char p[192];
    const char *s;
    size_t n;
    *caller = false;
    json_t *v = json_object_get(pe, "personIncidentRoleRegistryText");
    if (json_is_string(v)) {
        int rc = rd_str(r, pe, "personIncidentRoleRegistryText", path, &s, &n);
        *caller = rc > 0 && strcasecmp(s, "Caller") == 0;
        return rc < 0 ? rc : 0;
    }
    int rc = rd_list(r, pe, "personIncidentRoleRegistryText", path, 16, false, &l);
    if (rc)
        return rc;
    for (size_t i = 0; i < l.n; i++) {
        json_t *e = json_array_get(l.v, i);
        snprintf(p, sizeof(p), "%.96s.personIncidentRoleRegistryText[%zu]", path, i);
        if (!json_is_string(e))
            return refuse(r, p, "a string was expected");
        *caller = *caller || strcasecmp(json_string_value(e), "Caller") == 0;
    }
    return 0;
}

/* The caller's name from ncPersonComponent.name: the full name, or given and surname. */
static int read_person_name(struct reader *r, json_t *pe, const char *path,
                            struct cad_incident_import *out)
{
    char p[192];
    json_t *nc = json_object_get(pe, "ncPersonComponent");
    if (!nc || json_is_null(nc))
        return 0;
    snprintf(p, sizeof(p), "%.96s.ncPersonComponent", path);
    if (!json_is_object(nc))
        return refuse(r, p, "an object was expected");
    struct jlist names;
    int rc = rd_list(r, nc, "name", p, 16, true, &names);
    if (rc || names.n == 0)
        return rc;
    json_t *name = jl_at(&names, 0);
    snprintf(p, sizeof(p), "%.96s.ncPersonComponent.name[0]", path);
    if (!json_is_object(name))
        return refuse(r, p, "an object was expected");
    const char *full, *given, *sur;
    size_t nfull, ngiven, nsur;
    if ((rc = rd_ntext(r, name, "personFullName", p, &full, &nfull)) < 0 ||
        (rc = rd_ntext(r, name, "personGivenName", p, &given, &ngiven)) < 0 ||
        (rc = rd_ntext(r, name, "personSurName", p, &sur, &nsur)) < 0)
        return rc;
    if (full && nfull > 0)
        return take_text(out->caller_name, sizeof(out->caller_name), full, nfull, false,
                         "caller name (personFullName)", r->why, r->whysz);
    if (ngiven >= sizeof(out->caller_name) || nsur >= sizeof(out->caller_name))
        return refuse(r, "caller name (personGivenName, personSurName)", "too long");
    char both[2 * sizeof(out->caller_name) + 2];
    int len = snprintf(both, sizeof(both), "%.*s%s%.*s", (int)ngiven, given ? given : "",
                       ngiven && nsur ? " " : "", (int)nsur, sur ? sur : "");
    return take_text(out->caller_name, sizeof(out->caller_name), both, (size_t)len, false,
                     "caller name (personGivenName, personSurName)", r->why, r->whysz);
}

/* ---------------------------------------------------------------- EIDO import: the document */

static int import_doc(struct reader *r, json_t *doc, struct cad_incident_import *out)
{
    const char *s, *tracking = NULL;
    size_t n, ntracking = 0;
    char p[192], q[96];
    int rc;
    struct am_buf tmp;
    am_buf_init(&tmp, sizeof(out->narrative) - 1);

    /* Version and prologue. */
    if ((rc = rd_str(r, doc, "eidoVersion", "", &s, &n)) == 0)
        rc = rd_str(r, doc, "EIDOVersion", "", &s, &n);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = refuse(r, "eidoVersion", "missing");
        goto out;
    }
    if (!(n >= 1 && s[0] == '1' && (n == 1 || s[1] == '.'))) {
        snprintf(p, sizeof(p), "unsupported version '%s'", quoted(s, n, q, sizeof(q)));
        rc = refuse(r, "eidoVersion", p);
        goto out;
    }
    if ((rc = rd_str(r, doc, "lastUpdateTimeStamp", "", &s, &n)) == 0)
        rc = rd_str(r, doc, "LastUpdateTimeStamp", "", &s, &n);
    if (rc < 0)
        goto out;
    int64_t us;
    if (rc == 0 || am_time_parse(s, &us)) {
        rc = refuse(r, "lastUpdateTimeStamp", rc == 0 ? "missing" : "not an RFC 3339 time");
        goto out;
    }
    /* The 2020 draft had incidentTrackingIdentifier beside a $id of its own; 1.0 has $id only. */
    if ((rc = rd_str(r, doc, "incidentTrackingIdentifier", "", &tracking, &ntracking)) == 0 &&
        (rc = rd_str(r, doc, "$id", "", &tracking, &ntracking)) == 0)
        tracking = NULL;
    if (rc < 0)
        goto out;
    if (tracking && (ntracking > MAX_ID_BYTES || text_fault(tracking, ntracking, false))) {
        rc = refuse(r, "$id", "longer than 255 bytes or not text");
        goto out;
    }

    /* The incident: its type, priority, number and references. */
    struct jlist incs;
    json_t *inc;
    const char *note_refs[MAX_REFS], *loc_refs[MAX_REFS];
    size_t nnote_refs = 0, nloc_refs = 0;
    if ((rc = rd_list(r, doc, "incidentComponent", "", 64, true, &incs)))
        goto out;
    if (incs.n == 0) {
        rc = refuse(r, "incidentComponent", "missing");
        goto out;
    }
    if ((rc = rd_elem(r, &incs, 0, "incidentComponent", &inc, p, sizeof(p))))
        goto out;
    if (!json_is_array(incs.v))
        snprintf(p, sizeof(p), "incidentComponent");
    char ip[64];
    am_strlcpy(ip, p, sizeof(ip));
    if ((rc = rd_str(r, inc, "incidentTypeCommonRegistryText", ip, &s, &n)) == 0)
        rc = rd_str(r, inc, "incidentTypeInternalCode", ip, &s, &n);
    if (rc < 0)
        goto out;
    snprintf(p, sizeof(p), "%.96s.incidentTypeCommonRegistryText", ip);
    if (rc == 0 || n == 0) {
        rc = refuse(r, p, "missing");
        goto out;
    }
    if (n >= sizeof(out->type) || !is_token(s, sizeof(out->type) - 1, false)) {
        char qb[40], m[80];
        snprintf(m, sizeof(m), "'%s' is not an incident type code", quoted(s, n, qb, sizeof(qb)));
        rc = refuse(r, p, m);
        goto out;
    }
    am_strlcpy(out->type, s, sizeof(out->type));

    if ((rc = rd_str(r, inc, "incidentPriorityInternalText", ip, &s, &n)) < 0)
        goto out;
    if (rc > 0) {
        size_t k = n > 0 && (s[0] == 'P' || s[0] == 'p') ? 1 : 0;
        if (n == k + 1 && s[k] >= '1' && s[k] <= '4')
            out->priority = s[k] - '0';
    }
    json_t *common = json_object_get(inc, "incidentCommonPriorityNumber");
    if (common && !json_is_null(common) && !json_is_integer(common)) {
        snprintf(p, sizeof(p), "%.96s.incidentCommonPriorityNumber", ip);
        rc = refuse(r, p, "an integer was expected");
        goto out;
    }
    if ((rc = rd_str(r, inc, "internalIncidentId", ip, &s, &n)) < 0)
        goto out;
    if (rc > 0 && n > 0) {
        snprintf(p, sizeof(p), "%.96s.internalIncidentId", ip);
        if ((rc = take_text(out->remote_number, sizeof(out->remote_number), s, n, false, p, r->why,
                            r->whysz)))
            goto out;
    } else if (tracking) {
        /* urn:emergency:uid:incidentid:<id>:<agency> gives <id>; another $id is taken whole. */
        const char *id = tracking;
        size_t nid = ntracking, pre = strlen(URN_INCIDENT);
        if (ntracking > pre && strncasecmp(tracking, URN_INCIDENT, pre) == 0) {
            const char *colon = memchr(tracking + pre, ':', ntracking - pre);
            id = tracking + pre;
            nid = colon ? (size_t)(colon - id) : ntracking - pre;
        }
        if ((rc = take_text(out->remote_number, sizeof(out->remote_number), id, nid, false,
                            "$id (incident number)", r->why, r->whysz)))
            goto out;
    }
    if (out->remote_number[0] == '\0') {
        snprintf(p, sizeof(p), "%.96s.internalIncidentId", ip);
        rc = refuse(r, p, "missing, and no incident tracking $id");
        goto out;
    }
    if ((rc = rd_refs(r, inc, "notesReference", ip, note_refs, &nnote_refs)) ||
        (rc = rd_refs(r, inc, "locationReference", ip, loc_refs, &nloc_refs)))
        goto out;

    /* The owning agency. */
    struct jlist agencies;
    const char *owner = NULL, *first_agency = NULL;
    size_t nowner = 0, nfirst = 0;
    if ((rc = rd_list(r, doc, "agencyComponent", "", MAX_COMPONENTS, false, &agencies)))
        goto out;
    for (size_t i = 0; i < agencies.n; i++) {
        json_t *a;
        if ((rc = rd_elem(r, &agencies, i, "agencyComponent", &a, p, sizeof(p))))
            goto out;
        if ((rc = rd_str(r, a, "$id", p, &s, &n)) == 0)
            rc = rd_str(r, a, "organizationIdentification", p, &s, &n);
        if (rc < 0)
            goto out;
        json_t *own = json_object_get(a, "incidentOwningAgencyIndicator");
        if (own && !json_is_null(own) && !json_is_boolean(own)) {
            rc = refuse(r, p, "incidentOwningAgencyIndicator must be true or false");
            goto out;
        }
        if (rc > 0 && !first_agency) {
            first_agency = s;
            nfirst = n;
        }
        if (rc > 0 && !owner && json_is_true(own)) {
            owner = s;
            nowner = n;
        }
    }
    if (!owner) {
        json_t *upd = json_object_get(doc, "updatedByAgencyReference");
        if (upd && !json_is_null(upd)) {
            if (!json_is_object(upd)) {
                rc = refuse(r, "updatedByAgencyReference", "a reference was expected");
                goto out;
            }
            if ((rc = rd_str(r, upd, "$ref", "updatedByAgencyReference", &owner, &nowner)) < 0)
                goto out;
        }
    }
    if (!owner && (rc = rd_str(r, doc, "OwningAgencyIdentifier", "", &owner, &nowner)) < 0)
        goto out;
    if (!owner) {
        owner = first_agency;
        nowner = nfirst;
    }
    if (!owner || nowner == 0) {
        rc = refuse(r, "agencyComponent", "no sending agency identified");
        goto out;
    }
    if ((rc = take_text(out->remote_agency, sizeof(out->remote_agency), owner, nowner, false,
                        "agency identifier", r->why, r->whysz)))
        goto out;

    /* Notes: the incident's (referenced) notes make the narrative, other notes follow. */
    struct jlist notes;
    if ((rc = rd_list(r, doc, "notesComponent", "", MAX_NOTES, false, &notes)))
        goto out;
    bool truncated = false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < notes.n; i++) {
            json_t *e;
            const char *nid;
            size_t nn;
            if ((rc = rd_elem(r, &notes, i, "notesComponent", &e, p, sizeof(p))))
                goto out;
            if ((rc = rd_str(r, e, "$id", p, &nid, &nn)) < 0 ||
                (rc = rd_str(r, e, "notesActionComments", p, &s, &n)) < 0)
                goto out;
            if (rc == 0) {
                rc = refuse(r, p, "notesActionComments missing");
                goto out;
            }
            /* Unreferenced notes (all of them if the incident names none) may be cut short. */
            bool referenced = nnote_refs > 0 && in_refs(nid, note_refs, nnote_refs);
            if (n > MAX_NOTE_BYTES) {
                rc = refuse(r, p, "notesActionComments longer than 64 KiB");
                goto out;
            }
            if ((pass == 0) != referenced || truncated)
                continue;
            size_t mark = tmp.len;
            rc = tmp.len > 0 ? am_buf_append(&tmp, "\n", 1) : 0;
            if (!rc)
                rc = text_from_html(&tmp, s, n);
            if (rc == AM_EINVAL) {
                rc = refuse(r, p, "notesActionComments: invalid character reference");
                goto out;
            }
            if (rc == AM_ETOOBIG && pass == 0) {
                rc = refuse(r, p, "the incident's notes are longer than 3999 bytes");
                goto out;
            }
            if (rc == AM_ETOOBIG) {
                /* A further note that does not fit: keep what does, and say so. */
                tmp.len = mark;
                if (tmp.data)
                    tmp.data[mark] = '\0';
                const char *marker = mark > 0 ? "\n[...]" : "[...]";
                if (tmp.len + strlen(marker) <= tmp.max)
                    am_buf_append(&tmp, marker, strlen(marker));
                truncated = true;
                rc = 0;
                continue;
            }
            if (rc)
                goto out;
            if (tmp.data && text_fault(tmp.data + mark, tmp.len - mark, true)) {
                snprintf(q, sizeof(q), "notesActionComments %s",
                         text_fault(tmp.data + mark, tmp.len - mark, true));
                rc = refuse(r, p, q);
                goto out;
            }
        }
    }
    if (tmp.len > 0)
        memcpy(out->narrative, tmp.data, tmp.len + 1);

    /* Locations: the one the incident references, else an incident's, a caller's, the first. */
    struct jlist locs;
    if ((rc = rd_list(r, doc, "locationComponent", "", 64, false, &locs)))
        goto out;
    const char *lname = "locationComponent";
    if (locs.n == 0) {
        lname = "locationInformationComponent";
        if ((rc = rd_list(r, doc, lname, "", 64, false, &locs)))
            goto out;
    }
    struct place_read *places = NULL;
    if (locs.n > 0) {
        places = calloc(locs.n, sizeof(*places));
        if (!places) {
            rc = AM_ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < locs.n; i++) {
        json_t *e;
        if ((rc = rd_elem(r, &locs, i, lname, &e, p, sizeof(p))) ||
            (rc = read_location(r, e, p, &places[i], &tmp))) {
            free(places);
            goto out;
        }
    }
    struct place_read *chosen = NULL;
    for (size_t k = 0; k < nloc_refs && !chosen; k++)
        for (size_t i = 0; i < locs.n && !chosen; i++)
            if (places[i].id && strcmp(places[i].id, loc_refs[k]) == 0 &&
                (places[i].has_ll || places[i].address[0]))
                chosen = &places[i];
    static const char *const pref[] = {"Incident", "Caller", NULL};
    for (size_t k = 0; pref[k] && !chosen; k++)
        for (size_t i = 0; i < locs.n && !chosen; i++)
            if (places[i].type && strncasecmp(places[i].type, pref[k], strlen(pref[k])) == 0 &&
                (places[i].has_ll || places[i].address[0]))
                chosen = &places[i];
    for (size_t i = 0; i < locs.n && !chosen; i++)
        if (places[i].has_ll || places[i].address[0])
            chosen = &places[i];
    if (chosen) {
        out->has_location = chosen->has_ll;
        out->lat = chosen->has_ll ? chosen->lat : 0;
        out->lon = chosen->has_ll ? chosen->lon : 0;
        memcpy(out->address, chosen->address, sizeof(out->address));
    }
    free(places);

    /* The caller, and the callback component that says how to reach them. */
    struct jlist persons, callbacks, calls;
    lname = "personComponent";
    if ((rc = rd_list(r, doc, lname, "", MAX_COMPONENTS, false, &persons)))
        goto out;
    if (persons.n == 0) {
        lname = "personInformationComponent";
        if ((rc = rd_list(r, doc, lname, "", MAX_COMPONENTS, false, &persons)))
            goto out;
    }
    if ((rc = rd_list(r, doc, "callbackComponent", "", 64, false, &callbacks)) ||
        (rc = rd_list(r, doc, "callComponent", "", 64, false, &calls)))
        goto out;
    const char *cb_ref[1] = {NULL};
    size_t ncb_ref = 0;
    bool have_caller = false;
    for (size_t i = 0; i < persons.n; i++) {
        json_t *pe;
        bool is_caller;
        if ((rc = rd_elem(r, &persons, i, lname, &pe, p, sizeof(p))) ||
            (rc = person_is_caller(r, pe, p, &is_caller)))
            goto out;
        if (!is_caller || have_caller)
            continue;
        have_caller = true;
        if ((rc = read_person_name(r, pe, p, out)))
            goto out;
        json_t *ref = json_object_get(pe, "callBackReference");
        if (json_is_array(ref))
            ref = json_array_get(ref, 0);
        if (json_is_object(ref) && json_is_string(json_object_get(ref, "$ref"))) {
            cb_ref[0] = json_string_value(json_object_get(ref, "$ref"));
            ncb_ref = 1;
        }
    }
    json_t *first_call = calls.n > 0 ? jl_at(&calls, 0) : NULL;
    if (first_call && !json_is_object(first_call)) {
        rc = refuse(r, "callComponent[0]", "an object was expected");
        goto out;
    }
    if (!ncb_ref && first_call) {
        json_t *ref = json_object_get(first_call, "callBackReference");
        if (json_is_object(ref) && json_is_string(json_object_get(ref, "$ref"))) {
            cb_ref[0] = json_string_value(json_object_get(ref, "$ref"));
            ncb_ref = 1;
        }
    }
    for (size_t i = 0; i < callbacks.n; i++) {
        json_t *cb;
        const char *cid;
        if ((rc = rd_elem(r, &callbacks, i, "callbackComponent", &cb, p, sizeof(p))) ||
            (rc = rd_str(r, cb, "$id", p, &cid, &n)) < 0)
            goto out;
        rc = 0;
        bool match = ncb_ref ? in_refs(cid, cb_ref, 1) : callbacks.n == 1;
        if (match && out->caller_phone[0] == '\0' && (rc = read_callback(r, cb, p, out)))
            goto out;
    }

    /* The call's start. */
    if (first_call) {
        if ((rc = rd_str(r, first_call, "callStartTimestamp", "callComponent[0]", &s, &n)) < 0)
            goto out;
        if (rc > 0 && am_time_parse(s, &out->call_us)) {
            rc = refuse(r, "callComponent[0].callStartTimestamp", "not an RFC 3339 time");
            goto out;
        }
        if (rc > 0 && out->call_us < 0) {
            rc = refuse(r, "callComponent[0].callStartTimestamp", "before 1970");
            goto out;
        }
    }
    rc = 0;
out:
    am_buf_release(&tmp);
    return rc;
}

int cad_eido_import(const char *buf, size_t len, struct cad_incident_import *out, char *why,
                    size_t whysz)
{
    char spare[8];
    json_t *doc = NULL;
    struct reader r = {why, whysz};
    int rc;

    if (!why || whysz == 0) {
        r.why = spare;
        r.whysz = sizeof(spare);
    }
    memset(out, 0, sizeof(*out));
    r.why[0] = '\0';
    if (!buf && len) {
        snprintf(r.why, r.whysz, "no document");
        return AM_EINVAL;
    }
    if (len > CAD_EIDO_MAX_BYTES) {
        snprintf(r.why, r.whysz, "EIDO of %zu bytes exceeds the limit of %d bytes", len,
                 CAD_EIDO_MAX_BYTES);
        return AM_EINVAL;
    }
    rc = am_json_parse_object(buf ? buf : "", len, CAD_EIDO_MAX_BYTES, &doc, r.why, r.whysz);
    if (rc) {
        rc = rc == AM_ENOMEM ? rc : AM_EINVAL;
        goto out;
    }
    rc = import_doc(&r, doc, out);
out:
    json_decref(doc);
    if (rc) {
        memset(out, 0, sizeof(*out));
        if (r.why[0] == '\0')
            snprintf(r.why, r.whysz, "%s", am_strerror(rc));
        /*
         * One printable ASCII line: jansson's reasons quote the input near the
         * error, which may hold a newline or half a UTF-8 sequence.
         */
        for (char *c = r.why; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
    }
    return rc;
}

/* ---------------------------------------------------------------- CAP */

/*
 * What each incident type means for an alert: its CAP category and whether
 * the public should be warned (a road closed, a hazard, a threat in the
 * street) or only police and emergency services told. Types not listed are
 * Security, Restricted.
 */
static const struct cap_type {
    const char *type, *category;
    bool public;
} cap_types[] = {
    {"MVA", "Transport", true},      {"MVAINJY", "Transport", true},
    {"MVAHR", "Transport", true},    {"MVAUNK", "Transport", true},
    {"DISVEH", "Transport", true},   {"VEHABND", "Transport", false},
    {"RECKDRV", "Transport", false}, {"DUI", "Transport", false},
    {"TSTOP", "Transport", false},   {"PARKING", "Transport", false},
    {"PURSUIT", "Transport", true},  {"TRAIN", "Transport", true},
    {"AIR", "Transport", true},      {"THAZ", "Safety", true},
    {"WIRES", "Safety", true},       {"GASLEAK", "Safety", true},
    {"ODOR", "Safety", false},       {"WELFARE", "Safety", false},
    {"BLDCLPSE", "Rescue", true},    {"PERMISS", "Rescue", true},
    {"ABDUCTF", "Rescue", true},     {"RUNAWAY", "Rescue", false},
    {"FSTRU", "Fire", true},         {"FBRUSH", "Fire", true},
    {"FVEH", "Fire", false},         {"HAZMAT", "CBRNE", true},
    {"CHEMICAL", "CBRNE", true},     {"BIO", "CBRNE", true},
    {"RADIAT", "CBRNE", true},       {"EXPLOS", "CBRNE", true},
    {"BOMB", "Security", true},      {"TERROR", "Security", true},
    {"SHOOT", "Security", true},     {"CIVDIS", "Security", true},
    {"HOSTAGE", "Security", false},  {NULL, NULL, false},
};

static const struct cap_type *cap_type_of(const char *type)
{
    for (size_t i = 0; cap_types[i].type; i++)
        if (strcasecmp(cap_types[i].type, type) == 0)
            return &cap_types[i];
    return NULL;
}

/* Appends <tag>escaped text</tag> with the given indent. */
static int cap_elem(struct am_buf *b, int indent, const char *tag, const char *text)
{
    int rc = am_buf_printf(b, "%*s<%s>", indent, "", tag);
    if (!rc)
        rc = xml_escape(b, text);
    if (!rc)
        rc = am_buf_printf(b, "</%s>\n", tag);
    return rc;
}

struct cap_info {
    const char *language, *lang2; /* "fr-MA", "fr" */
    const char *event, *headline, *category, *urgency, *severity, *certainty;
    bool description;
};

static int cap_info(struct am_buf *b, const struct incident_view *v, const struct cap_info *ci)
{
    char tmp[192];
    int rc = am_buf_printf(b, "  <info>\n");
    if (!rc)
        rc = cap_elem(b, 4, "language", ci->language);
    if (!rc)
        rc = cap_elem(b, 4, "category", ci->category);
    if (!rc)
        rc = cap_elem(b, 4, "event", ci->event);
    if (!rc)
        rc = cap_elem(b, 4, "urgency", ci->urgency);
    if (!rc)
        rc = cap_elem(b, 4, "severity", ci->severity);
    if (!rc)
        rc = cap_elem(b, 4, "certainty", ci->certainty);
    if (!rc)
        rc = am_buf_printf(b, "    <eventCode>\n      <valueName>APCO</valueName>\n");
    if (!rc)
        rc = cap_elem(b, 6, "value", v->type);
    if (!rc)
        rc = am_buf_printf(b, "    </eventCode>\n");
    const char *headline = ci->headline;
    if (!headline || !*headline) {
        snprintf(tmp, sizeof(tmp), "%.150s - %s", ci->event, v->number);
        headline = tmp;
    }
    if (!rc)
        rc = cap_elem(b, 4, "headline", headline);
    if (!rc && ci->description && v->narrative && *v->narrative)
        rc = cap_elem(b, 4, "description", v->narrative);

    /* The area: the address, else the most local place name, and a circle at the spot. */
    const char *desc = v->address && *v->address ? v->address : NULL;
    static const char *const levels[] = {"sector", "prefecture", "region", NULL};
    for (size_t i = 0; levels[i] && !desc; i++)
        desc = place_text(v, levels[i], ci->lang2);
    for (size_t i = 0; levels[i] && !desc; i++)
        desc = place_text(v, levels[i], "fr");
    if (!desc && v->has_ll)
        desc = strcmp(ci->lang2, "ar") == 0 ? "المغرب" : "Maroc";
    if (!rc && desc) {
        rc = am_buf_printf(b, "    <area>\n");
        if (!rc)
            rc = cap_elem(b, 6, "areaDesc", desc);
        if (!rc && v->has_ll)
            rc = am_buf_printf(b, "      <circle>%.6f,%.6f 0.5</circle>\n", v->lat, v->lon);
        static const char *const coded[] = {"region", "prefecture", NULL};
        for (size_t i = 0; coded[i] && !rc; i++) {
            const char *code = place_text(v, coded[i], "code");
            if (!code || !is_token(code, 16, false))
                continue;
            rc = am_buf_printf(b, "      <geocode>\n        <valueName>ISO 3166-2</valueName>\n");
            if (!rc)
                rc = cap_elem(b, 8, "value", code);
            if (!rc)
                rc = am_buf_printf(b, "      </geocode>\n");
        }
        if (!rc)
            rc = am_buf_printf(b, "    </area>\n");
    }
    if (!rc)
        rc = am_buf_printf(b, "  </info>\n");
    return rc;
}

/* CAP's sender and identifier may hold no white space, comma, '<' or '&'. */
static bool cap_token_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255 || text_fault(s, n, false))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == ',' || s[i] == '<' || s[i] == '&')
            return false;
    return true;
}

int cad_cap_export(const json_t *incident, const char *sender, const char *headline_fr,
                   const char *headline_ar, struct am_buf *out)
{
    struct incident_view v;
    struct am_buf b;
    int rc;

    am_buf_init(&b, CAP_MAX_BYTES);
    if (!cap_token_ok(sender)) {
        rc = AM_EINVAL;
        goto out;
    }
    rc = view_incident(incident, &v);
    if (rc)
        goto out;

    const struct cap_type *ct = cap_type_of(v.type);
    const char *category = ct ? ct->category : "Security";
    bool public = ct && ct->public;
    static const char *const urgency[] = {"Unknown", "Immediate", "Immediate", "Expected",
                                          "Future"};
    static const char *const severity[] = {"Unknown", "Severe", "Moderate", "Minor", "Minor"};
    /* Units on scene (or an incident closed) have seen it; before that it is the caller's word. */
    const char *certainty =
        v.status && (strcmp(v.status, "on_scene") == 0 || strcmp(v.status, "closed") == 0)
            ? "Observed"
            : "Likely";

    time_t now = (time_t)(am_now_us() / 1000000);
    struct tm tm;
    gmtime_r(&now, &tm);
    uint8_t rnd[4];
    char hex[9];
    am_random(rnd, sizeof(rnd));
    am_hex(rnd, sizeof(rnd), hex);
    rc = am_buf_printf(&b,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
                       "  <identifier>%s-%04d%02d%02dT%02d%02d%02d-%s</identifier>\n",
                       v.number, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, hex);
    if (!rc)
        rc = cap_elem(&b, 2, "sender", sender);
    if (!rc)
        rc = am_buf_printf(&b,
                           "  <sent>%04d-%02d-%02dT%02d:%02d:%02d-00:00</sent>\n"
                           "  <status>Actual</status>\n"
                           "  <msgType>Alert</msgType>\n",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec);
    if (!rc && public)
        rc = am_buf_printf(&b, "  <scope>Public</scope>\n");
    if (!rc && !public)
        rc = am_buf_printf(&b, "  <scope>Restricted</scope>\n");
    if (!rc && !public)
        rc = cap_elem(&b, 2, "restriction",
                      "Réservé aux services de police et de secours / "
                      "مخصص لمصالح الشرطة والإسعاف");
    if (!rc)
        rc = cap_elem(&b, 2, "incidents", v.number);

    struct cap_info fr = {
        .language = "fr-MA",
        .lang2 = "fr",
        .event = v.type_fr && *v.type_fr ? v.type_fr : v.type,
        .headline = headline_fr,
        .category = category,
        .urgency = urgency[v.priority],
        .severity = severity[v.priority],
        .certainty = certainty,
        .description = !public,
    };
    struct cap_info ar = fr;
    ar.language = "ar-MA";
    ar.lang2 = "ar";
    ar.event = v.type_ar && *v.type_ar ? v.type_ar : fr.event;
    ar.headline = headline_ar;
    if (!rc)
        rc = cap_info(&b, &v, &fr);
    if (!rc)
        rc = cap_info(&b, &v, &ar);
    if (!rc)
        rc = am_buf_printf(&b, "</alert>\n");
    if (!rc)
        rc = am_buf_append(out, b.data, b.len);
out:
    am_buf_release(&b);
    return rc;
}
