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

#include "store/store.h"

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
    double lat, lon;    /* WGS 84 degrees, checked in range and not both 0; both NAN in a
                           Teltonika record without a fix (see avl_tlt_decode) */
    double speed_mps;   /* metres per second */
    double heading_deg; /* 0..360, clockwise from north */
    double altitude_m;
    double accuracy_m;
    int satellites;
    json_t *attrs;
};

/* Whether `id` is a device id: 1 to 63 bytes of A-Z a-z 0-9 . _ : - */
bool avl_device_id_ok(const char *id);

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
 * length over AVL_TLT_MAX_PACKET, or more records than `max`). On failure
 * every fix is released. A record at (0, 0) is a device without a fix: it
 * comes back with lat, lon, speed, heading and altitude NAN and its IO
 * elements, counts in the acknowledgement, and is not a position to ingest.
 * Speed, heading or altitude out of range become NAN. A record older than
 * AVL_PAST_S comes back with its own time: the listener acknowledges it
 * with the others and drops it (amane_avl_stale_dropped_total), so a
 * tracker back after more than a week offline empties its memory.
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

/* ---------------------------------------------------------------- service */

struct avl;
struct cad;
struct http_server;

extern const struct store_migration avl_migrations[];
extern const size_t avl_nmigrations;

enum avl_protocol { AVL_OSMAND, AVL_TELTONIKA, AVL_MQTT, AVL_PROTOCOL_COUNT };

/* "osmand", "teltonika", "mqtt"; NULL out of range. */
const char *avl_protocol_name(int p);
/* The protocol named `s`, or -1. */
int avl_protocol_parse(const char *s);

struct avl_opts {
    int flush_ms;    /* trail batches are written every flush_ms (default 200) */
    int max_batch;   /* or as soon as this many positions wait (default 8192) */
    int max_pending; /* positions waiting beyond which avl_ingest refuses (default 200000) */
    int max_rate;    /* positions a second kept per OsmAnd or MQTT device; more are dropped (20) */
};

/* `st` and `cad` must outlive the service. Loads the device registry. */
int avl_new(struct avl **out, struct store *st, struct cad *cad, const struct avl_opts *o);
/* Starts the thread that writes trail batches. */
int avl_start(struct avl *a);
/* Writes what is pending, stops the thread, frees. NULL allowed. */
void avl_free(struct avl *a);

/* Called once the batch holding a fix is durable (rc 0) or failed; on the store's writer. */
typedef void (*avl_done_fn)(void *arg, int rc);

/*
 * Takes one checked fix from a listener: its device must be registered for
 * protocol `p` (AM_ENOTFOUND otherwise, counted); a device sending more than
 * max_rate fixes a second (OsmAnd, MQTT) has the excess dropped (AM_EBUSY, counted), and
 * AM_EBUSY also when max_pending fixes wait. The unit's latest position is
 * updated in memory at once; the fix joins the next trail batch, which also
 * records the unit's last position for recommendations; done(arg, 0) is
 * called when that batch is durable: the moment to acknowledge to the
 * device. On an error return done is not called. The fix's attrs are
 * taken (the fix is released).
 */
int avl_ingest(struct avl *a, enum avl_protocol p, struct avl_fix *fix, avl_done_fn done,
               void *arg);

/*
 * Binds a device to a unit (a new binding replaces the device's old one)
 * or, with unit NULL, unbinds it. Appends avl.device.bound / .unbound.
 * Returns 0, AM_EINVAL (bad id or protocol), AM_ENOTFOUND (no such unit, or
 * no such device to unbind), with a reason in `why`.
 */
int avl_device_set(struct avl *a, const char *actor, const char *device, const char *protocol,
                   const char *unit, char *why, size_t whysz);
/* The registry: [{device, protocol, unit, since}] (new reference). */
int avl_device_list(struct avl *a, json_t **out);

/* A unit's positions in [from, to), oldest first, at most `limit` (1..20000). */
/*
 * The units within radius_m of (lat, lon), nearest first, at most `max`:
 * [{unit, lat, lon, time, distance_m}] from the spatial grid of their
 * latest positions (devices' reports, and the last known at start).
 */
int avl_units_near(struct avl *a, double lat, double lon, double radius_m, size_t max,
                   json_t **out);

int avl_trail(struct avl *a, const char *unit, int64_t from_us, int64_t to_us, int limit,
              json_t **out);

/*
 * Opens the device listeners on the server: OsmAnd HTTP on `osmand_port`
 * and Teltonika TCP on `teltonika_port` (0: any free port, -1: none);
 * *_bound (may be NULL) get the ports.
 */
int avl_listen(struct avl *a, struct http_server *srv, int osmand_port, int *osmand_bound,
               int teltonika_port, int *teltonika_bound);

/*
 * Connected vehicles through an MQTT broker (mqtt.c): `nclients` (1 to
 * AVL_MQTT_MAX_CLIENTS) MQTT v5 clients with persistent sessions
 * (`client_id`, then `client_id`-2...) share the subscription
 * $share/<client_id>/amane/v1/units/+/telemetry (QoS 1), each on its own
 * thread, and ingest each message as a fix of the device in the topic,
 * acknowledging it to the broker once its trail batch is durable; they
 * reconnect by themselves after a broker restart. Returns 0 (the broker may
 * come later), AM_EINVAL (bad nclients), AM_EIO for an unusable host,
 * AM_ENOMEM. Stop with avl_mqtt_stop(), before avl_free().
 */
#define AVL_MQTT_MAX_CLIENTS 16
struct avl_mqtt;
int avl_mqtt_start(struct avl *a, const char *host, int port, const char *client_id, int nclients,
                   struct avl_mqtt **out);
/* Publishes a command (JSON text) to amane/v1/units/<device>/commands at QoS 1. */
int avl_mqtt_command(struct avl_mqtt *q, const char *device, const char *json_text);
void avl_mqtt_stop(struct avl_mqtt *q);
/*
 * Bus subscriber (fits bus_fn): on cad.unit.assigned, publishes
 * {"type": "assignment", unit, incident, primary, seq} to the unit's MQTT
 * vehicles. On the store's writer: publishing only queues.
 */
void avl_mqtt_on_events(void *q, struct am_event *const *evs, size_t n);
/* The devices bound to `unit` for protocol `p`, at most `max`; returns how many. */
size_t avl_devices_of(struct avl *a, const char *unit, enum avl_protocol p,
                      char (*out)[AVL_DEVICE_SZ], size_t max);

/* Whether `device` is bound to a unit for protocol `p`. Thread-safe. */
bool avl_device_registered(struct avl *a, const char *device, enum avl_protocol p);

/*
 * Puts the units' latest positions on the stream as live state: a message
 * {"type": "avl.positions", "units": [{unit, lat, lon, time, speed_mps?,
 * heading?}]} of the units that moved, each unit at most twice a second,
 * for admins, supervisors, dispatchers and patrols.
 */
void avl_stream(struct avl *a, struct http_server *srv);

/*
 * Geofences (geofence.c): `req` is {name, polygon: a GeoJSON Polygon or
 * MultiPolygon (holes allowed)} or {name, circle: {lat, lon, radius_m}} or
 * {name, circle: {unit, radius_m}} (a circle that moves with that unit).
 * A unit entering or leaving one appends avl.geofence.entered / .exited.
 * Returns 0 and the id, AM_EINVAL (why says), AM_ENOTFOUND (no such unit).
 */
int avl_geofence_add(struct avl *a, const char *actor, const json_t *req, int64_t *id, char *why,
                     size_t whysz);
/* AM_ENOTFOUND if there is no such geofence. */
int avl_geofence_remove(struct avl *a, const char *actor, int64_t id, char *why, size_t whysz);
/* [{id, name, kind: polygon|circle|escort, polygon | circle}] (new reference). */
int avl_geofence_list(struct avl *a, json_t **out);

/* The routes: devices, trails, geofences. */
int avl_routes(struct http_server *srv, struct avl *a);

#endif
