/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * exchange.h - incidents in the formats other systems speak, private to the
 * cad module: an incident out as a NENA Emergency Incident Data Object (EIDO,
 * JSON) for another command centre, an EIDO in to open an incident handed
 * over by another centre, and an incident out as an OASIS CAP 1.2 alert.
 *
 * The export functions read the incident object of amane's API (the JSON the
 * cad module serves for GET /api/v1/incidents/{number}); the importer reads
 * untrusted bytes and fills a caller-owned struct. Nothing here touches the
 * store: the caller opens the incident, logs the exchange and sends the
 * document. The mapping to each standard, what is confirmed and what is our
 * interpretation, is written at the top of exchange.c.
 */
#ifndef AM_CAD_EXCHANGE_H
#define AM_CAD_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

/* The largest EIDO document the importer reads. */
#define CAD_EIDO_MAX_BYTES (256 * 1024)

/*
 * Builds the EIDO (NENA-STA-021, version 1.0 JSON) of `incident`, an incident
 * object as the API shows it, issued by `agency_id`, the NENA-style agency
 * identifier of this centre (a domain name such as "casablanca.dgsn.ma":
 * letters, digits, '.', '-', at most 127 bytes).
 *
 * On success *out holds a new object the caller must json_decref(); dump it
 * with JSON_REAL_PRECISION(17) or more if it is re-read by a program. Every
 * time is RFC 3339 UTC. Returns AM_EINVAL if the incident lacks `number`,
 * `type` or `times.call`, has a member of the wrong type, or if agency_id
 * is not an identifier; AM_ENOMEM if jansson cannot allocate. *out is NULL
 * on failure.
 */
int cad_eido_export(const json_t *incident, const char *agency_id, json_t **out);

/*
 * What an imported EIDO gives to open an incident. Every string is
 * NUL-terminated valid UTF-8 without control characters (the narrative may
 * hold '\n'); an absent value is the empty string, 0 or false.
 */
struct cad_incident_import {
    char type[32]; /* incident type code, e.g. "ASSAULT" (APCO common type) */
    int priority;  /* 1 (most urgent) to 4; 0 when the sender gave none we understand */
    char caller_name[128];
    char caller_phone[32]; /* '+' and 3-20 digits, or digits only */
    bool has_location;
    double lat, lon; /* WGS 84 degrees, finite and in range when has_location */
    char address[256];
    char narrative[4000];    /* the incident's notes as plain text */
    int64_t call_us;         /* start of the call, UTC microseconds; 0 if the EIDO has no call */
    char remote_number[64];  /* the incident's number at the sending centre */
    char remote_agency[128]; /* the sending (owning) agency's identifier */
};

/*
 * Parses an EIDO document of `len` bytes (need not be NUL-terminated): the
 * shape cad_eido_export() makes, and the variants other vendors send
 * (incidentComponent as an object or an array, location as PIDF-LO XML or a
 * GeoJSON point, the 2020 draft's capitalised prologue names). Members it
 * does not know are ignored; members it reads are checked strictly: at most
 * CAD_EIDO_MAX_BYTES, valid UTF-8, nesting within AM_JSON_MAX_DEPTH, required
 * parts present (version, time stamp, incident type, the sending agency and
 * the incident's number), types as the standard says, coordinates finite and
 * in range, phone numbers plausible, strings within the sizes of `out` and
 * free of control characters.
 *
 * Returns 0 with `out` filled, or AM_EINVAL with `out` zeroed and a reason
 * naming the field in `why`, one line of printable ASCII (e.g.
 * "locationComponent[0].locationByValue: latitude 123.4 out of range");
 * AM_ENOMEM if memory runs out. A call time before 1970 is refused. Never
 * keeps a reference to `buf`; allocates nothing the caller must free.
 */
int cad_eido_import(const char *buf, size_t len, struct cad_incident_import *out, char *why,
                    size_t whysz);

/*
 * Appends to `out` an OASIS CAP 1.2 <alert> for `incident`, sent now by
 * `sender` (CAP's sender: no spaces, commas, '<' or '&', e.g.
 * "cic@casablanca.dgsn.ma"), with two <info> blocks, fr-MA and ar-MA, whose
 * headlines are `headline_fr` and `headline_ar` (NULL or "" falls back to the
 * event name and the incident number). Category, scope, urgency, severity and
 * certainty come from the incident's type, priority and status (see
 * exchange.c). Text is escaped for XML and characters XML 1.0 does not allow
 * are dropped.
 *
 * `out` is the caller's, initialised; it is appended to only on success.
 * Returns AM_EINVAL for a malformed incident or sender, AM_ENOMEM, or
 * AM_ETOOBIG if `out` reaches its limit.
 */
int cad_cap_export(const json_t *incident, const char *sender, const char *headline_fr,
                   const char *headline_ar, struct am_buf *out);

#endif
