/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * teltonika.c - the Teltonika TCP link: the IMEI handshake that opens a
 * session and the AVL data packets of Codec 8 and Codec 8 Extended that
 * follow, turned into fixes. Every byte is untrusted: each count and length
 * is checked against the bytes actually present before it is used, and the
 * decoder waits for the whole packet (its length is in the header) before
 * reading a record, so a prefix is always "read more" and never a half
 * answer.
 *
 * What the device does not know is unknown, not a reason to refuse: a
 * record at (0, 0) is the receiver without a fix (no lock since boot, in a
 * garage, a tunnel); it is decoded, acknowledged and returned with lat and
 * lon NAN, speed, heading and altitude NAN, its IO elements kept (a panic
 * button pressed underground must not be lost), and it passes every other
 * check of avl_fix_check(). Refusing it would be worse than useless: the
 * device resends an unacknowledged packet for ever, so one record without
 * a fix would block everything the unit sends after it. Callers therefore
 * tell such a record by isnan(lat). A record with satellites 0 and other
 * coordinates is the last known position; it is kept as it is, satellites
 * 0, for the consumer to judge. A record older than the window (AVL_PAST_S:
 * a tracker back after a week without network, or one whose clock was
 * never set) is decoded too and returned with its time as it is, every
 * other check passed: the caller acknowledges it and drops it, since a
 * refusal would make the tracker resend it for ever. Coordinates off the
 * Earth or a time ahead of the window refuse the whole packet; a speed, angle or
 * altitude out of range only becomes NAN. More records than the caller has
 * room for is AM_ETOOBIG. Attributes are "priority", "event_io" and
 * "io<ID>"; past AVL_MAX_ATTRS the rest are dropped and "attrs_dropped"
 * counts them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

#define TLT_IMEI_LEN  15
#define TLT_HEAD_LEN  8 /* the 4 zero bytes, then the data field length */
#define TLT_CRC_LEN   4
#define TLT_DATA_MIN  3 /* codec id, number of data 1, number of data 2 */
#define TLT_CODEC8    0x08
#define TLT_CODEC8E   0x8E
#define TLT_GPS_LEN   24 /* timestamp, priority and the GPS element */
#define TLT_MAX_SPEED 200.0

/* A bounded reader over the data field: every read checks what is left. */
struct tlt_reader {
    const uint8_t *p;
    size_t left;
};

static uint64_t be_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads an n-byte (1 to 8) big-endian unsigned integer; false if the data ends first. */
static bool rd_uint(struct tlt_reader *r, size_t n, uint64_t *v)
{
    if (r->left < n)
        return false;
    *v = be_uint(r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

uint16_t avl_crc16_ibm(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

int avl_tlt_handshake(const uint8_t *buf, size_t len, char imei[16], size_t *used)
{
    if (imei)
        imei[0] = '\0';
    if (used)
        *used = 0;
    if (!imei || !used || (!buf && len))
        return AM_EINVAL;
    /* Refuse as soon as a byte is wrong, so that a stranger is not kept waiting for more. */
    if (len >= 1 && buf[0] != 0)
        return AM_EINVAL;
    if (len >= 2 && buf[1] != TLT_IMEI_LEN)
        return AM_EINVAL;
    for (size_t i = 2; i < len && i < 2 + TLT_IMEI_LEN; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return AM_EINVAL;
    if (len < 2 + TLT_IMEI_LEN)
        return AVL_NEED_MORE;
    memcpy(imei, buf + 2, TLT_IMEI_LEN);
    imei[TLT_IMEI_LEN] = '\0';
    *used = 2 + TLT_IMEI_LEN;
    return 0;
}

/*
 * The attributes of one record being built: at most AVL_MAX_ATTRS keys.
 * When the record brings more than that, the first AVL_MAX_ATTRS - 1 are
 * kept and "attrs_dropped" counts the others.
 */
struct tlt_attrs {
    json_t *obj;
    size_t cap;
    size_t dropped;
};

/* Adds `v` (a new reference, taken even on failure) under `key`. */
static int attr_put(struct tlt_attrs *a, const char *key, json_t *v)
{
    if (!v)
        return AM_ENOMEM;
    if (json_object_size(a->obj) >= a->cap && !json_object_get(a->obj, key)) {
        json_decref(v);
        a->dropped++;
        return 0;
    }
    return json_object_set_new(a->obj, key, v) ? AM_ENOMEM : 0;
}

static int attr_put_io(struct tlt_attrs *a, uint64_t id, json_t *v)
{
    char key[16];
    snprintf(key, sizeof(key), "io%" PRIu64, id);
    return attr_put(a, key, v);
}

/* A 64-bit IO value as the signed integer it is, without relying on an out-of-range cast. */
static int64_t as_signed64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? -(int64_t)(~v) - 1 : (int64_t)v;
}

/*
 * Reads the IO element of one record into a->obj. `w` is the width of ids
 * and counts: 1 for Codec 8, 2 for 8 Extended (which adds the NX group).
 */
static int decode_io(struct tlt_reader *r, size_t w, size_t index, struct tlt_attrs *a, char *why,
                     size_t whysz)
{
    static const size_t sizes[] = {1, 2, 4, 8};
    uint64_t event, total, count, id = 0, value = 0, sum = 0;
    int rc;

    if (!rd_uint(r, w, &event) || !rd_uint(r, w, &total))
        return am_why(why, whysz, AM_EINVAL, "record %zu: cut short in its IO element", index);
    /* The total is known before the groups: it decides whether a slot is kept for the count. */
    a->cap = 2 + total <= AVL_MAX_ATTRS ? AVL_MAX_ATTRS : AVL_MAX_ATTRS - 1;
    rc = attr_put(a, "event_io", json_integer((json_int_t)event));
    if (rc)
        return rc;
    for (size_t g = 0; g < sizeof(sizes) / sizeof(sizes[0]); g++) {
        if (!rd_uint(r, w, &count))
            return am_why(why, whysz, AM_EINVAL, "record %zu: cut short in its IO element", index);
        if (count > r->left / (w + sizes[g]))
            return am_why(why, whysz, AM_EINVAL,
                          "record %zu: %" PRIu64 " IO values of %zu bytes do not fit in the packet",
                          index, count, sizes[g]);
        sum += count;
        for (uint64_t k = 0; k < count; k++) {
            rd_uint(r, w, &id); /* cannot fail: the count was checked against what is left */
            rd_uint(r, sizes[g], &value);
            json_int_t j = sizes[g] == 8 ? as_signed64(value) : (json_int_t)value;
            rc = attr_put_io(a, id, json_integer(j));
            if (rc)
                return rc;
        }
    }
    if (w == 2) {
        if (!rd_uint(r, 2, &count))
            return am_why(why, whysz, AM_EINVAL, "record %zu: cut short in its IO element", index);
        if (count > r->left / 4)
            return am_why(why, whysz, AM_EINVAL,
                          "record %zu: %" PRIu64 " variable IO values do not fit in the packet",
                          index, count);
        sum += count;
        for (uint64_t k = 0; k < count; k++) {
            uint64_t n;
            if (!rd_uint(r, 2, &id) || !rd_uint(r, 2, &n) || n > r->left)
                return am_why(why, whysz, AM_EINVAL,
                              "record %zu: a variable IO value runs past the packet", index);
            char *hex = malloc(2 * n + 1);
            if (!hex)
                return AM_ENOMEM;
            am_hex(r->p, n, hex);
            r->p += n;
            r->left -= n;
            rc = attr_put_io(a, id, json_string(hex));
            free(hex);
            if (rc)
                return rc;
        }
    }
    if (sum != total)
        return am_why(why, whysz, AM_EINVAL,
                      "record %zu: the IO total says %" PRIu64 " but the groups hold %" PRIu64,
                      index, total, sum);
    return 0;
}

/* Decodes record `index` into f (init'ed by the caller) and checks it. */
static int decode_record(struct tlt_reader *r, size_t w, size_t index, const char *imei,
                         int64_t now_us, struct avl_fix *f, char *why, size_t whysz)
{
    struct tlt_attrs a = {.obj = NULL, .cap = AVL_MAX_ATTRS, .dropped = 0};
    int rc;

    if (r->left < TLT_GPS_LEN)
        return am_why(why, whysz, AM_EINVAL, "record %zu: cut short before its IO element", index);
    uint64_t ms = be_uint(r->p, 8);
    uint8_t priority = r->p[8];
    int32_t lon = (int32_t)(uint32_t)be_uint(r->p + 9, 4);
    int32_t lat = (int32_t)(uint32_t)be_uint(r->p + 13, 4);
    int16_t altitude = (int16_t)(uint16_t)be_uint(r->p + 17, 2);
    uint16_t angle = (uint16_t)be_uint(r->p + 19, 2);
    uint8_t satellites = r->p[21];
    uint16_t speed_kmh = (uint16_t)be_uint(r->p + 22, 2);
    r->p += TLT_GPS_LEN;
    r->left -= TLT_GPS_LEN;

    a.obj = f->attrs = json_object();
    if (!f->attrs)
        return AM_ENOMEM;
    rc = attr_put(&a, "priority", json_integer(priority));
    if (rc)
        return rc;
    rc = decode_io(r, w, index, &a, why, whysz);
    if (rc)
        return rc;
    /* The slot kept free by the cap. */
    if (a.dropped &&
        json_object_set_new(a.obj, "attrs_dropped", json_integer((json_int_t)a.dropped)))
        return AM_ENOMEM;

    am_strlcpy(f->device, imei, sizeof(f->device));
    /* A time past what microseconds can hold is far in the future: the check refuses it. */
    f->time_us = ms > (uint64_t)(INT64_MAX / 1000) ? INT64_MAX : (int64_t)ms * 1000;
    f->satellites = satellites;
    bool no_fix = lat == 0 && lon == 0;
    if (!no_fix) {
        f->lat = lat / 1e7;
        f->lon = lon / 1e7;
        double mps = speed_kmh / 3.6;
        f->speed_mps = mps <= TLT_MAX_SPEED ? mps : NAN;
        f->heading_deg = angle <= 360 ? angle : NAN;
        f->altitude_m = altitude >= -1000 && altitude <= 20000 ? altitude : NAN;
    }

    /* A record without a fix must pass everything but the position, which is unknown. */
    struct avl_fix probe = *f;
    if (no_fix)
        probe.lat = probe.lon = 1.0;
    /* Too old is for the caller to drop, once acknowledged: the rest must still pass. */
    if (probe.time_us < now_us - AVL_PAST_S * 1000000LL)
        probe.time_us = now_us;
    char reason[128];
    if (avl_fix_check(&probe, now_us, reason, sizeof(reason)))
        return am_why(why, whysz, AM_EINVAL, "record %zu: %s", index, reason);
    return 0;
}

int avl_tlt_decode(const uint8_t *buf, size_t len, const char *imei, int64_t now_us,
                   struct avl_fix *fixes, size_t max, size_t *nfix, size_t *used, char *why,
                   size_t whysz)
{
    int rc;

    if (why && whysz)
        why[0] = '\0';
    if (nfix)
        *nfix = 0;
    if (used)
        *used = 0;
    for (size_t i = 0; fixes && i < max; i++)
        avl_fix_init(&fixes[i]);
    if (!nfix || !used || (!buf && len) || (!fixes && max))
        return am_why(why, whysz, AM_EINVAL, "bad arguments");
    if (!imei || strnlen(imei, AVL_DEVICE_SZ) >= AVL_DEVICE_SZ)
        return am_why(why, whysz, AM_EINVAL, "no device id, or one too long");

    /* Each header field is judged as soon as it is there: garbage is refused at once. */
    for (size_t i = 0; i < len && i < 4; i++)
        if (buf[i] != 0)
            return am_why(why, whysz, AM_EINVAL, "the packet does not start with 4 zero bytes");
    if (len < TLT_HEAD_LEN)
        return AVL_NEED_MORE;
    uint64_t dlen = be_uint(buf + 4, 4);
    if (dlen > AVL_TLT_MAX_PACKET)
        return am_why(why, whysz, AM_ETOOBIG, "data field of %" PRIu64 " bytes (at most %d)", dlen,
                      AVL_TLT_MAX_PACKET);
    if (dlen < TLT_DATA_MIN)
        return am_why(why, whysz, AM_EINVAL, "data field of %" PRIu64 " bytes (at least %d)", dlen,
                      TLT_DATA_MIN);
    const uint8_t *data = buf + TLT_HEAD_LEN;
    if (len > TLT_HEAD_LEN && data[0] != TLT_CODEC8 && data[0] != TLT_CODEC8E)
        return am_why(why, whysz, AM_EINVAL, "codec 0x%02x is not 8 or 8 Extended", data[0]);
    if (len > TLT_HEAD_LEN + 1 && data[1] > max)
        return am_why(why, whysz, AM_ETOOBIG, "%u records, room for %zu", data[1], max);
    size_t total = TLT_HEAD_LEN + (size_t)dlen + TLT_CRC_LEN;
    if (len < total)
        return AVL_NEED_MORE;

    uint64_t crc = be_uint(data + dlen, TLT_CRC_LEN);
    uint16_t want = avl_crc16_ibm(data, (size_t)dlen);
    if (crc != want)
        return am_why(why, whysz, AM_EINVAL, "CRC 0x%08" PRIx64 ", computed 0x%04x", crc, want);
    size_t count = data[1];
    if (data[dlen - 1] != count)
        return am_why(why, whysz, AM_EINVAL, "the record counts differ (%zu and %u)", count,
                      data[dlen - 1]);

    size_t w = data[0] == TLT_CODEC8E ? 2 : 1;
    struct tlt_reader r = {.p = data + 2, .left = (size_t)dlen - TLT_DATA_MIN};
    for (size_t i = 0; i < count; i++) {
        rc = decode_record(&r, w, i, imei, now_us, &fixes[i], why, whysz);
        if (rc)
            goto out;
    }
    if (r.left) {
        rc = am_why(why, whysz, AM_EINVAL, "%zu bytes after the last record", r.left);
        goto out;
    }
    *nfix = count;
    *used = total;
    return 0;

out:
    for (size_t i = 0; i < max; i++)
        avl_fix_release(&fixes[i]);
    return rc;
}
