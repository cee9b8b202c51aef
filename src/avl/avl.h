/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * avl.h - automatic vehicle location: what units in the street report and
 * how it reaches the command room. Decoders for the protocols devices
 * speak (OsmAnd HTTP as the Traccar Client app sends it, Teltonika Codec 8
 * and 8 Extended over TCP, JSON telemetry over MQTT) turn bytes into fixes;
 * the rest of the module binds devices to units, keeps each unit's latest
 * position, writes trails in batches and feeds the stream.
 *
 * Decoders are pure functions of their input: no I/O, no globals, bounded,
 * and every byte from a device is untrusted (each has a fuzz target).
 */
#ifndef AM_AVL_H
#define AM_AVL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---------------------------------------------------------------- fixes */

/* Sizes and limits shared by the decoders. */
#define AVL_DEVICE_SZ 64          /* a device id, NUL included: 1..63 bytes of [A-Za-z0-9._:-] */
#define AVL_MAX_ATTRS 64          /* attributes kept per fix; more are dropped, and counted */
#define AVL_FUTURE_S  300         /* a fix more than this ahead of the server's clock is refused */
#define AVL_PAST_S    (7 * 86400) /* a fix older than this is refused */

/*
 * One position report. Unknown numeric values are NAN (satellites: -1).
 * `attrs` is a JSON object of everything else the device sent (battery,
 * ignition, IO elements by id...), owned by the fix; NULL if none.
 */
struct avl_fix {
    char device[AVL_DEVICE_SZ];
    int64_t time_us;    /* when the fix was taken, UTC microseconds */
    double lat, lon;    /* WGS 84 degrees, checked in range and not both 0 */
    double speed_mps;   /* metres per second */
    double heading_deg; /* 0..360, clockwise from north */
    double altitude_m;
    double accuracy_m;
    int satellites;
    json_t *attrs;
};

/* Sets every field to "unknown" (NAN, -1, "", NULL). */
void avl_fix_init(struct avl_fix *f);
/* Drops the attributes; the fix can be reused after avl_fix_init(). */
void avl_fix_release(struct avl_fix *f);

/*
 * Checks what every decoder checks of a fix before returning it: a device
 * id, coordinates finite and in range and not (0, 0), a time within
 * [now - AVL_PAST_S, now + AVL_FUTURE_S], speed, heading and altitude
 * finite where known. Returns 0 or AM_EINVAL with the reason in `why`.
 */
int avl_fix_check(const struct avl_fix *f, int64_t now_us, char *why, size_t whysz);

/* ---------------------------------------------------------------- OsmAnd */

/*
 * Decodes one OsmAnd request (Traccar Client, https://www.traccar.org/osmand/):
 * the URL query string `query` (without '?', may be NULL) and the body
 * (`body`, `blen`, may be empty) with its Content-Type (may be NULL).
 * Forms accepted:
 *  - parameters in the query string, or in an application/x-www-form-urlencoded
 *    body: `id` or `deviceid`; `lat` and `lon`, or `location=lat,lon`;
 *    `timestamp` as epoch seconds, epoch milliseconds, ISO 8601 / RFC 3339,
 *    or `yyyy-MM-dd HH:mm:ss` (UTC); `speed` in knots; `bearing` or
 *    `heading` in degrees; `altitude`, `accuracy`, `hdop`, `batt`, `charge`;
 *    any other parameter kept in attrs (as a number when it is one);
 *  - a JSON body (application/json) of the newer app:
 *    {"device_id", "location": {"timestamp", "coords": {"latitude",
 *    "longitude", "speed" (m/s), "heading", "accuracy", "altitude"},
 *    "battery": {"level", "is_charging"}, "is_moving", ...}}.
 * A missing timestamp means `now_us`. Percent-decoding follows RFC 3986 and
 * '+' is a space in forms. On success fills *out (init'ed here) and returns
 * 0; else AM_EINVAL with a reason (no device id, no coordinates, a value
 * that is not a number, a time out of range...) and *out released.
 * At most 64 KiB of query and body together; AM_ETOOBIG beyond.
 */
int avl_osmand_decode(const char *query, const char *body, size_t blen, const char *content_type,
                      int64_t now_us, struct avl_fix *out, char *why, size_t whysz);

/* -------------------------------------------------------------- Teltonika */

/* A decoder's answer when the buffer holds only part of a message: read more. */
#define AVL_NEED_MORE 1

/* Largest Teltonika AVL packet accepted (the devices send at most ~1,300 bytes on TCP). */
#define AVL_TLT_MAX_PACKET 65536
/* Most records in one packet (the count is one byte). */
#define AVL_TLT_MAX_RECORDS 255

/*
 * The IMEI handshake that opens a Teltonika TCP session: a 2-byte big-endian
 * length (15 for an IMEI) then that many ASCII digits. Returns 0 with the
 * IMEI in `imei` (NUL-terminated, room for 16 bytes) and *used the bytes
 * consumed; AVL_NEED_MORE if the buffer is a proper prefix; AM_EINVAL if it
 * is not a handshake (length not 15, non-digits). The server answers 0x01 to
 * accept a known device and 0x00 to refuse it.
 */
int avl_tlt_handshake(const uint8_t *buf, size_t len, char imei[16], size_t *used);

/*
 * One AVL data packet of Codec 8 (0x08) or Codec 8 Extended (0x8E): preamble
 * 0x00000000, data field length, codec, record count, records, the count
 * again, CRC-16/IBM of the data field. Each record becomes a fix (device
 * set from `imei`, IO elements as attrs keyed "io<ID>" with their integer
 * values, and variable-length 8E values as hex strings; priority, event IO
 * id and satellites kept). `fixes` has room for `max` (at most 255) fixes,
 * all init'ed here; *nfix gets how many were decoded, which is the count
 * to acknowledge (4 bytes big-endian). *used gets the bytes consumed.
 * Returns 0, AVL_NEED_MORE (a proper prefix: read more), AM_EINVAL (bad
 * preamble, unknown codec, counts that disagree or lie about the length, a
 * CRC mismatch, a record with impossible coordinates or time: the whole
 * packet is refused and the connection should be closed), AM_ETOOBIG (data
 * length over AVL_TLT_MAX_PACKET). On failure every fix is released.
 */
int avl_tlt_decode(const uint8_t *buf, size_t len, const char *imei, int64_t now_us,
                   struct avl_fix *fixes, size_t max, size_t *nfix, size_t *used, char *why,
                   size_t whysz);

/* CRC-16/IBM (poly 0xA001 reflected, init 0), as Teltonika computes it. */
uint16_t avl_crc16_ibm(const uint8_t *p, size_t n);

/* -------------------------------------------------------- MQTT telemetry */

/*
 * The JSON telemetry a smart vehicle publishes on
 * amane/v1/units/<unit>/telemetry (docs/avl.md): {"time"?, "lat", "lon",
 * "speed_kmh"?, "heading"?, "altitude"?, "accuracy"?, "ignition"?, "siren"?,
 * "lightbar"?, "fuel_pct"?, "odometer_km"?, "doors_open"?, "event"?:
 * "crash"|"harsh_braking"|"harsh_acceleration"|"panic"}. `device` is the
 * MQTT client id (or the unit in the topic). Returns 0 or AM_EINVAL/
 * AM_ETOOBIG (over 16 KiB) with a reason; on failure *out is released.
 */
int avl_mqtt_decode(const char *device, const char *payload, size_t len, int64_t now_us,
                    struct avl_fix *out, char *why, size_t whysz);

#endif
