/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_teltonika.c - fuzzes the Teltonika decoder as a server reads a TCP
 * session: avl_tlt_handshake() on the first bytes, then avl_tlt_decode()
 * packet after packet over the rest until the bytes run out or one is
 * refused. An input that does not open with a handshake is read as packets
 * of a device already known, so the fuzzer need not find the 17 bytes first.
 *
 * Checks: the handshake agrees with a plain reference (00 0F and 15 digits)
 * and consumes 17 bytes or none. A decode returns 0, AVL_NEED_MORE,
 * AM_EINVAL or AM_ETOOBIG; a refusal leaves no fix allocated, nothing
 * counted or consumed, and gives a one-line reason; "read more" only when
 * the header is a proper prefix. An accepted packet starts with 4 zero
 * bytes, consumes exactly its header, data field and CRC (no more than the
 * buffer), holds codec 8 or 8E, a CRC that a bitwise reference agrees with,
 * as many fixes as its count (at most the room given); each fix passes
 * avl_fix_check() (a time older than the window aside: such records are
 * acknowledged and dropped by the listener), or is a record without a fix
 * (position NAN) that passes it once given a position; attributes are at most AVL_MAX_ATTRS of
 * known keys with integer or lowercase hex values; no fix past the count holds attributes. The same
 * packet decodes the same from an exact-size copy, and its proper prefixes ask for more. Each input
 * is read twice: as it is, and with every packet's CRC made right, since a mutation almost never
 * keeps the CRC and would otherwise stop at it. Any failed check is abort().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_US       1700000000000000LL /* 2023-11-14T22:13:20Z: the seeds are just before */
#define KNOWN_DEVICE "356307042441013"

static struct avl_fix fixes[AVL_TLT_MAX_RECORDS];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_teltonika: %s\n", what);
    abort();
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* CRC-16/ARC bit by bit, written from the definition. */
static uint16_t ref_crc(const uint8_t *p, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) {
            uint32_t bit = ((p[i] >> b) ^ crc) & 1;
            crc >>= 1;
            if (bit)
                crc ^= 0xA001;
        }
    return (uint16_t)crc;
}

static bool is_digits(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static void check_handshake(const uint8_t *data, size_t size, int rc, const char *imei, size_t used)
{
    bool whole = size >= 17 && data[0] == 0 && data[1] == 15 && is_digits(data + 2, 15);
    size_t ndigits = size > 17 ? 15 : size > 2 ? size - 2 : 0;
    bool prefix = (size < 1 || data[0] == 0) && (size < 2 || data[1] == 15) &&
                  (ndigits == 0 || is_digits(data + 2, ndigits));
    if (rc == 0) {
        if (!whole || used != 17 || strlen(imei) != 15 || memcmp(imei, data + 2, 15) != 0)
            fail("handshake accepted what the reference refuses, or returned another IMEI");
    } else {
        if (used != 0 || imei[0] != '\0')
            fail("a handshake not accepted consumed bytes or gave an IMEI");
        if (rc == AVL_NEED_MORE && !(size < 17 && prefix))
            fail("handshake asked for more of what is not a prefix");
        if (rc == AM_EINVAL && (whole || (size < 17 && prefix)))
            fail("handshake refused a good one or a prefix of one");
        if (rc != AVL_NEED_MORE && rc != AM_EINVAL)
            fail("handshake: unexpected code");
    }
}

static bool io_key(const char *k)
{
    if (strcmp(k, "priority") == 0 || strcmp(k, "event_io") == 0 || strcmp(k, "attrs_dropped") == 0)
        return true;
    if (strncmp(k, "io", 2) != 0 || k[2] == '\0' || strlen(k) > 7)
        return false;
    long id = 0;
    for (const char *p = k + 2; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        id = id * 10 + (*p - '0');
    }
    return id <= 65535 && (k[2] != '0' || k[3] == '\0');
}

static void check_fix(const struct avl_fix *f, const char *imei, bool extended)
{
    if (strcmp(f->device, imei) != 0)
        fail("a fix carries another device id");
    char why[128] = "";
    /* A record older than the window comes back to be acknowledged and dropped by the
     * listener: everything but its age must pass. */
    struct avl_fix probe = *f;
    if (probe.time_us < NOW_US - AVL_PAST_S * 1000000LL)
        probe.time_us = NOW_US;
    if (isnan(f->lat) || isnan(f->lon)) {
        /* A record without a fix: unknown position, the rest must pass. */
        if (!isnan(f->lat) || !isnan(f->lon) || !isnan(f->speed_mps) || !isnan(f->heading_deg) ||
            !isnan(f->altitude_m))
            fail("a record without a fix has half a position or a motion");
        probe.lat = probe.lon = 1.0;
        if (avl_fix_check(&probe, NOW_US, why, sizeof(why)))
            fail("a record without a fix fails the other checks");
    } else if (avl_fix_check(&probe, NOW_US, why, sizeof(why))) {
        fprintf(stderr, "fuzz_teltonika: fix check: %s\n", why);
        fail("a fix returned fails avl_fix_check");
    }
    if (f->satellites < 0 || f->satellites > 255)
        fail("satellites out of the byte's range");
    if (!json_is_object(f->attrs) || json_object_size(f->attrs) > AVL_MAX_ATTRS)
        fail("attributes missing or over the cap");
    if (!json_is_integer(json_object_get(f->attrs, "priority")) ||
        !json_is_integer(json_object_get(f->attrs, "event_io")))
        fail("priority or event IO missing");
    const char *key;
    json_t *v;
    json_object_foreach(f->attrs, key, v)
    {
        if (!io_key(key))
            fail("an attribute with an unexpected key");
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            size_t n = strlen(s);
            if (!extended || n % 2)
                fail("a hex value where none can be, or of odd length");
            for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                    fail("a hex value that is not lowercase hex");
        } else if (!json_is_integer(v)) {
            fail("an attribute neither an integer nor a string");
        }
    }
}

static int decode(const uint8_t *p, size_t len, const char *imei, size_t *nfix, size_t *used,
                  char *why, size_t whysz)
{
    return avl_tlt_decode(p, len, imei, NOW_US, fixes, AVL_TLT_MAX_RECORDS, nfix, used, why, whysz);
}

static void release_all(void)
{
    for (size_t i = 0; i < AVL_TLT_MAX_RECORDS; i++)
        avl_fix_release(&fixes[i]);
}

/* Decodes an exact-size copy of p[0..len): what a packet's prefix or the packet alone gives. */
static int decode_copy(const uint8_t *p, size_t len, const char *imei, size_t *nfix)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        fail("out of memory");
    if (len)
        memcpy(copy, p, len);
    size_t used;
    char why[256];
    int rc = decode(copy, len, imei, nfix, &used, why, sizeof(why));
    free(copy);
    release_all();
    return rc;
}

static void check_refusal(int rc, size_t nfix, size_t used, const char *why, size_t whysz)
{
    if (nfix != 0 || used != 0)
        fail("a refusal counted fixes or consumed bytes");
    for (size_t i = 0; i < AVL_TLT_MAX_RECORDS; i++)
        if (fixes[i].attrs)
            fail("a refusal left attributes allocated");
    if (rc == AM_EINVAL || rc == AM_ETOOBIG) {
        if (!memchr(why, '\0', whysz) || why[0] == '\0')
            fail("a refusal must give a NUL-terminated reason");
        for (const char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20)
                fail("a reason must be one line");
    }
}

/* Makes the CRC of the packet at p right if it is whole (and fix); true if it was wrong. */
static bool patch_crc(uint8_t *p, size_t len, bool fix)
{
    if (len < 8 || be32(p) != 0)
        return false;
    size_t dlen = be32(p + 4);
    if (dlen < 3 || dlen > AVL_TLT_MAX_PACKET || len < 8 + dlen + 4)
        return false;
    uint8_t want[4] = {0, 0, 0, 0};
    uint16_t crc = ref_crc(p + 8, dlen);
    want[2] = (uint8_t)(crc >> 8);
    want[3] = (uint8_t)crc;
    bool wrong = memcmp(p + 8 + dlen, want, 4) != 0;
    if (fix)
        memcpy(p + 8 + dlen, want, 4);
    return wrong;
}

/*
 * Reads packets from p[0..len) until the bytes run out or one is not
 * accepted. With fix_crc, each packet's CRC is made right first, so that
 * mutations reach the records behind the CRC check. Returns true if it
 * stopped at a packet whose CRC was wrong.
 */
static bool read_packets(uint8_t *p, size_t len, const char *imei, bool fix_crc)
{
    while (len > 0) {
        bool crc_wrong = patch_crc(p, len, fix_crc);
        size_t nfix = 99, used = 99;
        char why[256];
        memset(why, 'x', sizeof(why));
        int rc = decode(p, len, imei, &nfix, &used, why, sizeof(why));
        if (crc_wrong && !fix_crc && rc != AM_EINVAL)
            fail("a whole packet with a wrong CRC was not refused");
        if (rc != 0) {
            if (rc != AVL_NEED_MORE && rc != AM_EINVAL && rc != AM_ETOOBIG)
                fail("decode: unexpected code");
            check_refusal(rc, nfix, used, why, sizeof(why));
            if (rc == AVL_NEED_MORE) {
                bool zeros = true;
                for (size_t i = 0; i < len && i < 4; i++)
                    zeros = zeros && p[i] == 0;
                bool bad_head = len >= 8 && (be32(p + 4) < 3 || be32(p + 4) > AVL_TLT_MAX_PACKET ||
                                             len >= (size_t)8 + be32(p + 4) + 4);
                bool bad_codec = len >= 9 && p[8] != 0x08 && p[8] != 0x8E;
                if (!zeros || bad_head || bad_codec)
                    fail("asked for more when the header is not a proper prefix");
            }
            return crc_wrong && !fix_crc;
        }
        if (used < 15 || used > len)
            fail("consumed too few or more than the buffer");
        if (be32(p) != 0)
            fail("accepted a packet without its 4 zero bytes");
        size_t dlen = be32(p + 4);
        if (dlen < 3 || dlen > AVL_TLT_MAX_PACKET || used != 8 + dlen + 4)
            fail("consumed other than the header, data field and CRC");
        if (p[8] != 0x08 && p[8] != 0x8E)
            fail("accepted an unknown codec");
        if (be32(p + 8 + dlen) != ref_crc(p + 8, dlen))
            fail("accepted a packet whose CRC the reference disagrees with");
        if (nfix != p[9] || nfix != p[8 + dlen - 1] || nfix > AVL_TLT_MAX_RECORDS)
            fail("fix count differs from the packet's counts");
        for (size_t i = 0; i < nfix; i++)
            check_fix(&fixes[i], imei, p[8] == 0x8E);
        for (size_t i = nfix; i < AVL_TLT_MAX_RECORDS; i++)
            if (fixes[i].attrs)
                fail("a fix past the count holds attributes");
        release_all();

        /* The packet alone, exact size, decodes the same; a prefix of it asks for more. */
        size_t again = 0;
        if (decode_copy(p, used, imei, &again) != 0 || again != nfix)
            fail("the packet alone decodes differently");
        size_t cuts[] = {used - 1, used / 2, 9, 8, 3};
        for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++)
            if (decode_copy(p, cuts[k], imei, &again) != AVL_NEED_MORE)
                fail("a prefix of an accepted packet does not ask for more");
        p += used;
        len -= used;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char imei[16];
    memset(imei, 'x', sizeof(imei));
    size_t used = 99;
    int rc = avl_tlt_handshake(data, size, imei, &used);
    check_handshake(data, size, rc, imei, used);
    if ((rc != 0 && rc != AM_EINVAL) || (rc == 0 && size == used))
        return 0;
    const char *device = rc == 0 ? imei : KNOWN_DEVICE;
    size_t skip = rc == 0 ? used : 0;
    /* As sent, then, if a wrong CRC stopped it, with every CRC right. */
    uint8_t *copy = malloc(size - skip);
    if (!copy)
        fail("out of memory");
    memcpy(copy, data + skip, size - skip);
    if (read_packets(copy, size - skip, device, false)) {
        memcpy(copy, data + skip, size - skip);
        read_packets(copy, size - skip, device, true);
    }
    free(copy);
    return 0;
}
