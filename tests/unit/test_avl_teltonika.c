/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_avl_teltonika.c - unit tests of the Teltonika decoder in
 * src/avl/teltonika.c: CRC-16/IBM on its check value and on real packets;
 * the IMEI handshake whole, in pieces and wrong; the packets of Teltonika's
 * Codec documentation (Codec 8 with one and two records, Codec 8 Extended)
 * and packets real devices sent (Codec 8 and 8E with real positions, a
 * variable-length VIN, eight records), byte for byte with their own CRCs;
 * packets built here with IO elements of every size and the attribute cap;
 * "read more" at every split point; and every refusal: a bad CRC, counts
 * that lie about the bytes present, unknown codecs, a bad preamble, a length
 * over the limit, coordinates off the Earth, a time out of the window, more
 * records than room. Records without a fix are decoded and acknowledged with
 * an unknown position (see teltonika.c for why).
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

#include "avl/avl.h"
#include "core/core.h"

#define IMEI "356307042441013"

/* ------------------------------------------------------------- packets of record */

/* From Teltonika's "Codec" page: Codec 8, one record, CRC 0xC7CF. */
#define DOC_C8_ONE                                                                                 \
    "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01" \
    "F10000601A014E0000000000000000010000C7CF"
/* Codec 8, one record, three IO elements, CRC 0xF22A. */
#define DOC_C8_ONE_B                                                                               \
    "000000000000002808010000016B40D9AD80010000000000000000000000000000000103021503010101425E1000" \
    "00010000F22A"
/* Codec 8, two records, CRC 0x252C. */
#define DOC_C8_TWO                                                                                 \
    "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B" \
    "40D5C198010000000000000000000000000000000101010101000000020000252C"
/* Codec 8 Extended, one record, CRC 0x2994. */
#define DOC_C8E                                                                                    \
    "000000000000004A8E010000016B412CEE0001000000000000000000000000000000000100050001000101000100" \
    "11"                                                                                           \
    "001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994"

/* Real devices (the packets Traccar's decoder is tested with). Vienna, 83 km/h, 15 IO elements. */
#define REAL_C8_VIENNA                                                                             \
    "000000000000004c08010000016818d500580009c28d9f1cb3757a00be00c60f0053000f06f0011503c80001011d" \
    "00fc0007423799180053cdf80dce426f430f88190bb8560bb802f100005aa110002887e000010000ee8d"
/* Codec 8E in the Netherlands with two NX values: the VIN and a list of trouble codes. */
#define REAL_C8E_VIN                                                                               \
    "00000000000000a38e0100000178b11c9e1000040bbbc91f03190c002100e113001300000010000600ef0100f001" \
    "00150300c800004501001e070005004237e00018000a00ce166200430f970024059f000300f10000665900c70000" \
    "001e00100000a1b500000002010000115756315a5a5a32455a38363031353338380119002950303239392c503036" \
    "37352c50303637342c50303637322c50303637312c50303437312c50324241430100001ad8"
/* Codec 8E near Cape Town, two records, satellites 0: the last known position. */
#define REAL_C8E_CAPE                                                                              \
    "00000000000000b98e0200000179555c7bf8010b3a1cfbebc142b00000000000000000ec000f000900f000001500" \
    "00c80000450200710100740001070100fa0000ec01000500b500000018000000430d5600440000001900000001"   \
    "00f1000000000000000000000179555c83c8010b3a1cfbebc142b0000000000000000185000f000900f000001500" \
    "00c80000450200710100740001070100fa00018511000500b500000018000000430d5600440000001900000001"   \
    "00f100000000000000000200003251"
/* Codec 8, eight records over 18 hours, 25 IO elements each. */
#define REAL_C8_EIGHT                                                                              \
    "00000000000002cb08080000015a71ccbec00002fc9bfc1e53a1e00016004cf80005001914150216056500ee00ef" \
    "00f0009d029e029f02a002a102a202a302a402a502a602020003000164d20003480100c6000ac500ce02c8000065" \
    "4ec700004ee8000000015a725aaac80002fc933c1e539d4000150049f80000001914150116056500ee00ef00f000" \
    "9d029e029f02a002a102a202a302a402a502a602020003000164d200034800f4c6000ac500ce02c80000654ec700" \
    "004ee8000000015a75a42c900002fc97d01e539640001d0008020000001914150016056500ee00ef00f0009d029e" \
    "029f02a002a102a202a302a402a502a602020003000164d200034800f8c6000ac500ce02c80006ba5ac700004ee8" \
    "000000015a75a440180002fc931c1e539b60001d00b9020001001914150016056500ee00ef00f0009d029e029f02" \
    "a002a102a202a302a402a502a602020003000164d200034800fac6000ac500ce02c80006ba5ac700004ee8000000" \
    "015a75a453a00002fc93601e539cc0001d015d0c0000001914150016056500ee00ef00f0009d029e029f02a002a1" \
    "02a202a302a402a502a602020003000164d200034800f9c6000ac500ce02c80006ba5ac700004ee8000000015a75" \
    "a467280002fc93801e539cc0001d013c0c0000001914150016056500ee00ef00f0009d029e029f02a002a102a202" \
    "a302a402a502a602020003000164d200034800f9c6000ac500ce02c80006ba5ac700004ee8000000015a75a47ab0" \
    "0002fc92cc1e539c80001d00b00c0000001914150016056500ee00ef00f0009d029e029f02a002a102a202a302a4" \
    "02a502a602020003000164d200034800f8c60004c5000a02c800003085c70006ba5a000000015a75a48e380002fc" \
    "92ec1e539c40001d00410c0000001914150116056500ee00ef00f0009d029e029f02a002a102a202a302a402a502" \
    "a602020003000164d200034800f8c6000ac500ce02c80000c83dc700004ee800080000e0b2"
/* A Codec 12 command response: not ours to decode on this path. */
#define REAL_C12 "00000000000000100C010600000008010300010015D5C5010000D988"

/* ------------------------------------------------------------- helpers */

struct bytes {
    uint8_t *b;
    size_t n;
};

static struct bytes unhex(const char *hex)
{
    size_t n = strlen(hex) / 2;
    struct bytes out = {malloc(n ? n : 1), n};
    assert_non_null(out.b);
    assert_int_equal(strlen(hex) % 2, 0);
    assert_int_equal(am_unhex(hex, out.b, n), 0);
    return out;
}

static void near(double got, double want, double eps)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("got %.10g, want %.10g", got, want);
}

/* A reference CRC-16/ARC, table-driven, to build packets with. */
static uint16_t ref_crc(const uint8_t *p, size_t n)
{
    static uint16_t table[256];
    static bool ready;
    if (!ready) {
        for (unsigned i = 0; i < 256; i++) {
            uint16_t c = (uint16_t)i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
            table[i] = c;
        }
        ready = true;
    }
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++)
        crc = (uint16_t)((crc >> 8) ^ table[(crc ^ p[i]) & 0xFF]);
    return crc;
}

/* A packet builder: big-endian fields, then the length, count 2 and CRC patched in. */
struct pkt {
    uint8_t *b;
    size_t n, cap;
};

static void put(struct pkt *p, uint64_t v, size_t width)
{
    if (p->n + width > p->cap) {
        p->cap = (p->n + width) * 2;
        p->b = realloc(p->b, p->cap);
        assert_non_null(p->b);
    }
    for (size_t i = 0; i < width; i++)
        p->b[p->n + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    p->n += width;
}

static void put_bytes(struct pkt *p, const void *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(p, ((const uint8_t *)src)[i], 1);
}

static void pkt_begin(struct pkt *p, uint8_t codec, uint8_t count)
{
    p->n = 0;
    put(p, 0, 4);
    put(p, 0, 4); /* the data field length, patched by pkt_end() */
    put(p, codec, 1);
    put(p, count, 1);
}

/* Writes count 2, the length and the CRC; returns the packet's size. */
static size_t pkt_end(struct pkt *p, uint8_t count2)
{
    put(p, count2, 1);
    size_t dlen = p->n - 8;
    for (int i = 0; i < 4; i++)
        p->b[4 + i] = (uint8_t)(dlen >> (8 * (3 - i)));
    put(p, ref_crc(p->b + 8, dlen), 4);
    return p->n;
}

/* Rewrites the CRC after a test has altered the data field. */
static void pkt_recrc(struct pkt *p)
{
    size_t dlen = p->n - 12;
    uint16_t c = ref_crc(p->b + 8, dlen);
    p->b[p->n - 2] = (uint8_t)(c >> 8);
    p->b[p->n - 1] = (uint8_t)c;
}

static void pkt_free(struct pkt *p)
{
    free(p->b);
    memset(p, 0, sizeof(*p));
}

#define NOW_MS 1700000000000LL /* 2023-11-14T22:13:20Z */
#define NOW_US (NOW_MS * 1000)

/* Timestamp, priority and GPS element; lat and lon in degrees. */
static void rec_gps(struct pkt *p, uint64_t ms, uint8_t prio, double lat, double lon, int16_t alt,
                    uint16_t angle, uint8_t sats, uint16_t kmh)
{
    put(p, ms, 8);
    put(p, prio, 1);
    put(p, (uint32_t)(int32_t)lround(lon * 1e7), 4);
    put(p, (uint32_t)(int32_t)lround(lat * 1e7), 4);
    put(p, (uint16_t)alt, 2);
    put(p, angle, 2);
    put(p, sats, 1);
    put(p, kmh, 2);
}

/* A Codec 8 IO element with one N1 value (id 1 = 1): 7 bytes. */
static void io8_small(struct pkt *p)
{
    put(p, 1, 1); /* event */
    put(p, 1, 1); /* total */
    put(p, 1, 1), put(p, 1, 1), put(p, 1, 1);
    put(p, 0, 1), put(p, 0, 1), put(p, 0, 1);
}

/* A well-formed Codec 8 packet of n records in Casablanca, a minute apart up to now. */
static size_t build_c8(struct pkt *p, uint8_t n)
{
    pkt_begin(p, 0x08, n);
    for (uint8_t i = 0; i < n; i++) {
        rec_gps(p, NOW_MS - 60000 * (n - i), 1, 33.5731 + i * 1e-4, -7.5898, 50, 90, 9, 36);
        io8_small(p);
    }
    return pkt_end(p, n);
}

/* What one decode returned. Static: 255 fixes. */
static struct avl_fix fixes[AVL_TLT_MAX_RECORDS];
static size_t nfix, used;
static char why[256];

static int decode_at(const uint8_t *b, size_t len, int64_t now_us, size_t max)
{
    /* An exact-size copy, so that a sanitizer sees any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, b, len);
    nfix = used = 12345;
    int rc = avl_tlt_decode(copy, len, IMEI, now_us, fixes, max, &nfix, &used, why, sizeof(why));
    free(copy);
    if (rc) {
        assert_int_equal(nfix, 0);
        assert_int_equal(used, 0);
        for (size_t i = 0; i < max; i++)
            assert_null(fixes[i].attrs);
    }
    if (rc == AM_EINVAL || rc == AM_ETOOBIG)
        assert_true(why[0] != '\0');
    return rc;
}

static int decode(const uint8_t *b, size_t len, int64_t now_us)
{
    return decode_at(b, len, now_us, AVL_TLT_MAX_RECORDS);
}

static void release_all(void)
{
    for (size_t i = 0; i < AVL_TLT_MAX_RECORDS; i++)
        avl_fix_release(&fixes[i]);
}

static json_int_t attr_int(const struct avl_fix *f, const char *key)
{
    json_t *v = json_object_get(f->attrs, key);
    if (!json_is_integer(v))
        fail_msg("attribute %s: not an integer", key);
    return json_integer_value(v);
}

static const char *attr_str(const struct avl_fix *f, const char *key)
{
    json_t *v = json_object_get(f->attrs, key);
    if (!json_is_string(v))
        fail_msg("attribute %s: not a string", key);
    return json_string_value(v);
}

/* Decodes a packet given in hex that must be accepted whole; returns the record count. */
static size_t decode_hex_ok(const char *hex, int64_t now_us)
{
    struct bytes p = unhex(hex);
    int rc = decode(p.b, p.n, now_us);
    if (rc)
        fail_msg("refused: %s (%s)", am_strerror(rc), why);
    assert_int_equal(used, p.n);
    free(p.b);
    return nfix;
}

/* Every proper prefix of b must ask for more, and leave nothing behind. */
static void every_prefix_needs_more(const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int rc = decode(b, k, NOW_US);
        if (rc != AVL_NEED_MORE)
            fail_msg("prefix of %zu of %zu bytes: %d (%s)", k, n, rc, why);
    }
}

/* ------------------------------------------------------------- CRC */

static void test_crc16(void **state)
{
    (void)state;
    assert_int_equal(avl_crc16_ibm((const uint8_t *)"123456789", 9), 0xBB3D);
    assert_int_equal(avl_crc16_ibm(NULL, 0), 0);
    const char *packets[] = {DOC_C8_ONE,   DOC_C8_ONE_B,  DOC_C8_TWO,    DOC_C8E, REAL_C8_VIENNA,
                             REAL_C8E_VIN, REAL_C8E_CAPE, REAL_C8_EIGHT, REAL_C12};
    for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
        struct bytes p = unhex(packets[i]);
        size_t dlen = (size_t)p.b[4] << 24 | (size_t)p.b[5] << 16 | (size_t)p.b[6] << 8 | p.b[7];
        assert_int_equal(p.n, 8 + dlen + 4);
        uint16_t stored = (uint16_t)(p.b[p.n - 2] << 8 | p.b[p.n - 1]);
        assert_int_equal(avl_crc16_ibm(p.b + 8, dlen), stored);
        assert_int_equal(ref_crc(p.b + 8, dlen), stored);
        free(p.b);
    }
}

/* ------------------------------------------------------------- handshake */

static void test_handshake(void **state)
{
    (void)state;
    struct bytes h = unhex("000F333536333037303432343431303133" /* then a packet starts */ "0000");
    char imei[16];
    size_t n = 99;
    assert_int_equal(avl_tlt_handshake(h.b, h.n, imei, &n), 0);
    assert_string_equal(imei, IMEI);
    assert_int_equal(n, 17);
    for (size_t k = 0; k < 17; k++) {
        n = 99;
        assert_int_equal(avl_tlt_handshake(h.b, k, imei, &n), AVL_NEED_MORE);
        assert_int_equal(n, 0);
    }
    assert_int_equal(avl_tlt_handshake(h.b, 17, imei, &n), 0);
    assert_int_equal(n, 17);

    /* Wrong at once, without waiting for the rest. */
    uint8_t bad[17];
    memcpy(bad, h.b, 17);
    bad[0] = 0x01;
    assert_int_equal(avl_tlt_handshake(bad, 1, imei, &n), AM_EINVAL);
    assert_string_equal(imei, "");
    memcpy(bad, h.b, 17);
    bad[1] = 0x10; /* 16 digits */
    assert_int_equal(avl_tlt_handshake(bad, 2, imei, &n), AM_EINVAL);
    bad[1] = 0x00;
    assert_int_equal(avl_tlt_handshake(bad, 17, imei, &n), AM_EINVAL);
    memcpy(bad, h.b, 17);
    bad[9] = 'A';
    assert_int_equal(avl_tlt_handshake(bad, 10, imei, &n), AM_EINVAL);
    assert_int_equal(avl_tlt_handshake(bad, 17, imei, &n), AM_EINVAL);
    memcpy(bad, h.b, 17);
    bad[16] = '\0';
    assert_int_equal(avl_tlt_handshake(bad, 17, imei, &n), AM_EINVAL);
    assert_int_equal(n, 0);
    /* An AVL packet where a handshake should be. */
    struct bytes p = unhex(DOC_C8_ONE);
    assert_int_equal(avl_tlt_handshake(p.b, p.n, imei, &n), AM_EINVAL);
    assert_int_equal(avl_tlt_handshake(NULL, 0, imei, &n), AVL_NEED_MORE);
    assert_int_equal(avl_tlt_handshake(h.b, h.n, imei, NULL), AM_EINVAL);
    free(p.b);
    free(h.b);
}

/* ------------------------------------------------------------- documented packets */

/* The documentation's records are at (0, 0) with no satellites: decoded, position unknown. */
static void assert_no_fix(const struct avl_fix *f, int64_t ms)
{
    assert_string_equal(f->device, IMEI);
    assert_int_equal(f->time_us, ms * 1000);
    assert_true(isnan(f->lat) && isnan(f->lon));
    assert_true(isnan(f->speed_mps) && isnan(f->heading_deg) && isnan(f->altitude_m));
    assert_true(isnan(f->accuracy_m));
    assert_int_equal(f->satellites, 0);
}

static void test_doc_codec8(void **state)
{
    (void)state;
    assert_int_equal(decode_hex_ok(DOC_C8_ONE, 1560161086000LL * 1000 + 60000000), 1);
    const struct avl_fix *f = &fixes[0];
    assert_no_fix(f, 1560161086000LL); /* 2019-06-10T10:04:46Z */
    assert_int_equal(attr_int(f, "priority"), 1);
    assert_int_equal(attr_int(f, "event_io"), 1);
    assert_int_equal(attr_int(f, "io21"), 3);
    assert_int_equal(attr_int(f, "io1"), 1);
    assert_int_equal(attr_int(f, "io66"), 24079);
    assert_int_equal(attr_int(f, "io241"), 24602);
    assert_int_equal(attr_int(f, "io78"), 0);
    assert_int_equal(json_object_size(f->attrs), 7);
    assert_null(fixes[1].attrs);
    release_all();

    assert_int_equal(decode_hex_ok(DOC_C8_ONE_B, 1560161136000LL * 1000), 1);
    assert_no_fix(&fixes[0], 1560161136000LL);
    assert_int_equal(attr_int(&fixes[0], "io66"), 24080);
    assert_int_equal(json_object_size(fixes[0].attrs), 5);
    release_all();

    assert_int_equal(decode_hex_ok(DOC_C8_TWO, 1560161136000LL * 1000), 2);
    assert_no_fix(&fixes[0], 1560160861000LL);
    assert_no_fix(&fixes[1], 1560160879000LL);
    assert_int_equal(attr_int(&fixes[0], "io1"), 0);
    assert_int_equal(attr_int(&fixes[1], "io1"), 1);
    release_all();
}

static void test_doc_codec8e(void **state)
{
    (void)state;
    assert_int_equal(decode_hex_ok(DOC_C8E, 1560166592000LL * 1000), 1);
    const struct avl_fix *f = &fixes[0];
    assert_no_fix(f, 1560166592000LL);
    assert_int_equal(attr_int(f, "priority"), 1);
    assert_int_equal(attr_int(f, "event_io"), 1);
    assert_int_equal(attr_int(f, "io1"), 1);
    assert_int_equal(attr_int(f, "io17"), 29);
    assert_int_equal(attr_int(f, "io16"), 22949000);
    assert_int_equal(attr_int(f, "io11"), 893700218);
    assert_int_equal(attr_int(f, "io14"), 500686954);
    assert_int_equal(json_object_size(f->attrs), 7);
    release_all();
}

/* ------------------------------------------------------------- real devices */

static void test_real_codec8(void **state)
{
    (void)state;
    int64_t t = 1546604839000LL; /* 2019-01-04T12:27:19Z */
    assert_int_equal(decode_hex_ok(REAL_C8_VIENNA, t * 1000 + 1000000), 1);
    const struct avl_fix *f = &fixes[0];
    assert_string_equal(f->device, IMEI);
    assert_int_equal(f->time_us, t * 1000);
    near(f->lat, 48.1523066, 1e-9);
    near(f->lon, 16.3745183, 1e-9);
    near(f->speed_mps, 83 / 3.6, 1e-9);
    near(f->heading_deg, 198, 0);
    near(f->altitude_m, 190, 0);
    assert_true(isnan(f->accuracy_m));
    assert_int_equal(f->satellites, 15);
    assert_int_equal(attr_int(f, "priority"), 0);
    assert_int_equal(attr_int(f, "event_io"), 0);
    assert_int_equal(attr_int(f, "io240"), 1);
    assert_int_equal(attr_int(f, "io66"), 14233);
    assert_int_equal(attr_int(f, "io205"), 63501);
    assert_int_equal(attr_int(f, "io241"), 23201);
    assert_int_equal(attr_int(f, "io16"), 2656224);
    assert_int_equal(json_object_size(f->attrs), 2 + 15);
    assert_int_equal(avl_fix_check(f, t * 1000, NULL, 0), 0);
    release_all();

    /* Eight records over 18 hours; "now" just after the last. */
    assert_int_equal(decode_hex_ok(REAL_C8_EIGHT, 1488032403000LL * 1000 + 5000000), 8);
    near(fixes[0].lat, 50.8797408, 1e-9);
    near(fixes[0].lon, 5.0109436, 1e-9);
    assert_int_equal(fixes[0].time_us, 1487967928000LL * 1000);
    assert_int_equal(fixes[0].satellites, 248); /* as sent */
    near(fixes[3].heading_deg, 185, 0);
    near(fixes[3].speed_mps, 1 / 3.6, 1e-12);
    assert_int_equal(fixes[7].time_us, 1488032403000LL * 1000);
    assert_int_equal(attr_int(&fixes[2], "io200"), 440922);
    assert_int_equal(attr_int(&fixes[6], "io199"), 440922);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(json_object_size(fixes[i].attrs), 2 + 25);
    assert_null(fixes[8].attrs);
    release_all();
    /* The first record is 18 h older than the last: a week later the packet is still taken
     * whole, its first record with its time as sent, for the listener to drop once acked. */
    struct bytes p = unhex(REAL_C8_EIGHT);
    assert_int_equal(decode(p.b, p.n, 1487967928000LL * 1000 + AVL_PAST_S * 1000000LL + 1), 0);
    assert_int_equal(nfix, 8);
    assert_int_equal(fixes[0].time_us, 1487967928000LL * 1000);
    assert_int_equal(fixes[7].time_us, 1488032403000LL * 1000);
    release_all();
    free(p.b);
}

static void test_real_codec8e(void **state)
{
    (void)state;
    int64_t t = 1617879146000LL; /* 2021-04-08 */
    assert_int_equal(decode_hex_ok(REAL_C8E_VIN, t * 1000), 1);
    const struct avl_fix *f = &fixes[0];
    near(f->lat, 52.0296716, 1e-9);
    near(f->lon, 6.7877833, 1e-9);
    assert_int_equal(f->satellites, 19);
    near(f->altitude_m, 33, 0);
    near(f->heading_deg, 225, 0);
    assert_int_equal(attr_int(f, "io239"), 1);
    assert_int_equal(attr_int(f, "io16"), 41397);
    /* The VIN, and a list of trouble codes, as lowercase hex. */
    assert_string_equal(attr_str(f, "io256"), "5756315a5a5a32455a3836303135333838");
    assert_string_equal(attr_str(f, "io281"), "50303239392c50303637352c50303637342c50303637322c"
                                              "50303637312c50303437312c5032424143");
    assert_int_equal(json_object_size(f->attrs), 2 + 16);
    release_all();

    /* Satellites 0 but a position: the last known one, kept as sent. */
    assert_int_equal(decode_hex_ok(REAL_C8E_CAPE, 1620634797000LL * 1000), 2);
    near(fixes[0].lat, -33.9656016, 1e-9);
    near(fixes[0].lon, 18.8357883, 1e-9);
    assert_int_equal(fixes[0].satellites, 0);
    assert_int_equal(attr_int(&fixes[0], "event_io"), 236);
    assert_int_equal(attr_int(&fixes[1], "event_io"), 389);
    assert_int_equal(attr_int(&fixes[1], "io389"), 17);
    assert_int_equal(attr_int(&fixes[1], "io263"), 1);
    release_all();
}

/* ------------------------------------------------------------- built packets */

static void test_io_every_size_codec8(void **state)
{
    (void)state;
    struct pkt p = {0};
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS - 1000, 2, -33.9249, 18.4241, -12, 359, 12, 720);
    put(&p, 0xEF, 1); /* event IO */
    put(&p, 12, 1);   /* total */
    put(&p, 3, 1);    /* N1 */
    put(&p, 1, 1), put(&p, 0, 1), put(&p, 2, 1), put(&p, 0xFF, 1), put(&p, 255, 1), put(&p, 7, 1);
    put(&p, 3, 1); /* N2 */
    put(&p, 3, 1), put(&p, 0xFFFF, 2), put(&p, 4, 1), put(&p, 0, 2), put(&p, 5, 1), put(&p, 513, 2);
    put(&p, 3, 1); /* N4 */
    put(&p, 6, 1), put(&p, 0xFFFFFFFF, 4), put(&p, 7, 1), put(&p, 0x80000000, 4);
    put(&p, 8, 1), put(&p, 1, 4);
    put(&p, 3, 1); /* N8: signed 64-bit */
    put(&p, 9, 1), put(&p, UINT64_MAX, 8), put(&p, 10, 1), put(&p, 0x8000000000000000u, 8);
    put(&p, 11, 1), put(&p, 0x7FFFFFFFFFFFFFFFu, 8);
    size_t n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 1);
    assert_int_equal(used, n);
    const struct avl_fix *f = &fixes[0];
    near(f->lat, -33.9249, 1e-7);
    near(f->lon, 18.4241, 1e-7);
    near(f->altitude_m, -12, 0);
    near(f->heading_deg, 359, 0);
    near(f->speed_mps, 200, 1e-9); /* 720 km/h, the most accepted */
    assert_int_equal(attr_int(f, "priority"), 2);
    assert_int_equal(attr_int(f, "event_io"), 0xEF);
    assert_int_equal(attr_int(f, "io1"), 0);
    assert_int_equal(attr_int(f, "io2"), 255);
    assert_int_equal(attr_int(f, "io255"), 7);
    assert_int_equal(attr_int(f, "io3"), 65535);
    assert_int_equal(attr_int(f, "io4"), 0);
    assert_int_equal(attr_int(f, "io5"), 513);
    assert_int_equal(attr_int(f, "io6"), 4294967295LL);
    assert_int_equal(attr_int(f, "io7"), 2147483648LL);
    assert_int_equal(attr_int(f, "io8"), 1);
    assert_true(attr_int(f, "io9") == -1);
    assert_true(attr_int(f, "io10") == INT64_MIN);
    assert_true(attr_int(f, "io11") == INT64_MAX);
    assert_int_equal(json_object_size(f->attrs), 14);
    release_all();
    every_prefix_needs_more(p.b, n);
    pkt_free(&p);
}

static void test_io_every_size_codec8e(void **state)
{
    (void)state;
    struct pkt p = {0};
    pkt_begin(&p, 0x8E, 2);
    for (int r = 0; r < 2; r++) {
        rec_gps(&p, NOW_MS - 2000 + r * 1000, 0, 90, -180, 20000, 0, 4, 0);
        put(&p, 385, 2); /* event IO */
        put(&p, 9, 2);   /* total */
        put(&p, 2, 2);   /* N1 */
        put(&p, 65535, 2), put(&p, 0xFE, 1), put(&p, 256, 2), put(&p, 1, 1);
        put(&p, 1, 2); /* N2 */
        put(&p, 1000, 2), put(&p, 0xBEEF, 2);
        put(&p, 1, 2); /* N4 */
        put(&p, 1001, 2), put(&p, 0xDEADBEEF, 4);
        put(&p, 2, 2); /* N8 */
        put(&p, 1002, 2), put(&p, 0xFFFFFFFFFFFFFFFEu, 8), put(&p, 1003, 2), put(&p, 42, 8);
        put(&p, 3, 2); /* NX */
        put(&p, 2000, 2), put(&p, 4, 2), put_bytes(&p, "\x00\xAB\xCD\xFF", 4);
        put(&p, 2001, 2), put(&p, 0, 2);
        put(&p, 2002, 2), put(&p, 17, 2), put_bytes(&p, "WV1ZZZ2EZ86015388", 17);
    }
    size_t n = pkt_end(&p, 2);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 2);
    for (int r = 0; r < 2; r++) {
        const struct avl_fix *f = &fixes[r];
        assert_int_equal(f->time_us, (NOW_MS - 2000 + r * 1000) * 1000);
        near(f->lat, 90, 0);
        near(f->lon, -180, 0);
        near(f->altitude_m, 20000, 0);
        near(f->speed_mps, 0, 0);
        assert_int_equal(attr_int(f, "event_io"), 385);
        assert_int_equal(attr_int(f, "io65535"), 0xFE);
        assert_int_equal(attr_int(f, "io256"), 1);
        assert_int_equal(attr_int(f, "io1000"), 0xBEEF);
        assert_int_equal(attr_int(f, "io1001"), 0xDEADBEEFLL);
        assert_true(attr_int(f, "io1002") == -2);
        assert_int_equal(attr_int(f, "io1003"), 42);
        assert_string_equal(attr_str(f, "io2000"), "00abcdff");
        assert_string_equal(attr_str(f, "io2001"), "");
        assert_string_equal(attr_str(f, "io2002"), "5756315a5a5a32455a3836303135333838");
        assert_int_equal(json_object_size(f->attrs), 11);
    }
    release_all();
    every_prefix_needs_more(p.b, n);
    pkt_free(&p);
}

/* A Codec 8E record with `count` N1 values, ids 1..count. */
static size_t build_many_io(struct pkt *p, unsigned count)
{
    pkt_begin(p, 0x8E, 1);
    rec_gps(p, NOW_MS, 0, 34.02, -6.83, 40, 10, 8, 50);
    put(p, 0, 2);
    put(p, count, 2);
    put(p, count, 2);
    for (unsigned i = 1; i <= count; i++)
        put(p, i, 2), put(p, i & 0xFF, 1);
    put(p, 0, 2), put(p, 0, 2), put(p, 0, 2), put(p, 0, 2);
    return pkt_end(p, 1);
}

static void test_attribute_cap(void **state)
{
    (void)state;
    struct pkt p = {0};
    /* Exactly AVL_MAX_ATTRS: priority, event_io and 62 values, all kept. */
    size_t n = build_many_io(&p, AVL_MAX_ATTRS - 2);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(json_object_size(fixes[0].attrs), AVL_MAX_ATTRS);
    assert_null(json_object_get(fixes[0].attrs, "attrs_dropped"));
    assert_int_equal(attr_int(&fixes[0], "io62"), 62);
    release_all();
    /* 1000 values: the first 61 kept, and the count of the 939 others. */
    n = build_many_io(&p, 1000);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(json_object_size(fixes[0].attrs), AVL_MAX_ATTRS);
    assert_int_equal(attr_int(&fixes[0], "io61"), 61);
    assert_null(json_object_get(fixes[0].attrs, "io62"));
    assert_int_equal(attr_int(&fixes[0], "attrs_dropped"), 1000 - 61);
    assert_int_equal(attr_int(&fixes[0], "priority"), 0);
    release_all();
    pkt_free(&p);
}

/* ------------------------------------------------------------- read more */

static void test_need_more_every_split(void **state)
{
    (void)state;
    const char *packets[] = {DOC_C8_TWO, DOC_C8E, REAL_C8E_VIN, REAL_C8_EIGHT};
    for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
        struct bytes p = unhex(packets[i]);
        every_prefix_needs_more(p.b, p.n);
        free(p.b);
    }
    struct pkt p = {0};
    size_t n = build_c8(&p, 5);
    every_prefix_needs_more(p.b, n);
    /* And the whole of it, delivered in pieces as TCP may, decodes once complete. */
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 5);
    release_all();
    /* At the largest size allowed, the header alone asks for the rest. */
    uint8_t head[10] = {0, 0, 0, 0, 0, 1, 0, 0, 0x8E, 1};
    assert_int_equal(decode(head, 8, NOW_US), AVL_NEED_MORE);
    assert_int_equal(decode(head, 10, NOW_US), AVL_NEED_MORE);
    pkt_free(&p);
}

/* ------------------------------------------------------------- refusals */

static void test_bad_crc(void **state)
{
    (void)state;
    struct pkt p = {0};
    size_t n = build_c8(&p, 2);
    p.b[n - 1] ^= 0x01;
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "CRC"));
    p.b[n - 1] ^= 0x01;
    p.b[24] ^= 0x40; /* a bit of the first latitude */
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "CRC"));
    p.b[24] ^= 0x40;
    p.b[n - 4] = 0x01; /* the CRC's two high bytes are zero */
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    p.b[n - 4] = 0x00;
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    release_all();
    /* Teltonika's own packet with the CRC of another. */
    struct bytes d = unhex(DOC_C8_ONE);
    d.b[d.n - 2] = 0xF2, d.b[d.n - 1] = 0x2A;
    assert_int_equal(decode(d.b, d.n, 1560161086000LL * 1000), AM_EINVAL);
    free(d.b);
    pkt_free(&p);
}

static void test_counts_that_lie(void **state)
{
    (void)state;
    struct pkt p = {0};
    size_t n;

    /* Three records announced (twice), two present. */
    pkt_begin(&p, 0x08, 3);
    for (int i = 0; i < 2; i++) {
        rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
        io8_small(&p);
    }
    n = pkt_end(&p, 3);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "record 2"));

    /* Number of data 2 differs from number of data 1. */
    n = build_c8(&p, 2);
    p.b[n - 5] = 1;
    pkt_recrc(&p);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "counts differ"));
    /* Both say 1 but there are 2 records: bytes left over. */
    p.b[9] = 1;
    pkt_recrc(&p);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    /* Both say 0. */
    p.b[9] = 0, p.b[n - 5] = 0;
    pkt_recrc(&p);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);

    /* An N1 count running past the end of the packet. */
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
    put(&p, 0, 1), put(&p, 200, 1), put(&p, 200, 1); /* event, total, N1: 200 */
    put(&p, 1, 1), put(&p, 1, 1), put(&p, 2, 1), put(&p, 2, 1);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "do not fit"));

    /* An N8 group cut in the middle of a value. */
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
    put(&p, 0, 1), put(&p, 1, 1), put(&p, 0, 1), put(&p, 0, 1), put(&p, 0, 1);
    put(&p, 1, 1), put(&p, 78, 1), put(&p, 0, 4); /* 4 of the 8 bytes */
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);

    /* An NX length past the end. */
    pkt_begin(&p, 0x8E, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
    put(&p, 0, 2), put(&p, 1, 2);
    put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2);
    put(&p, 1, 2), put(&p, 300, 2), put(&p, 0x1000, 2), put_bytes(&p, "abcdef", 6);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "runs past"));
    /* An NX count of 65535 with nothing after it. */
    pkt_begin(&p, 0x8E, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
    put(&p, 0, 2), put(&p, 65535, 2);
    put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 65535, 2);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);

    /* The IO total disagrees with the groups. */
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0);
    put(&p, 1, 1), put(&p, 2, 1);
    put(&p, 1, 1), put(&p, 1, 1), put(&p, 1, 1), put(&p, 0, 1), put(&p, 0, 1), put(&p, 0, 1);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "total"));

    /* Records cut at each count of their IO element. */
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0), put(&p, 0, 1);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "cut short in its IO element"));
    pkt_begin(&p, 0x08, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0), put(&p, 0, 1), put(&p, 0, 1);
    put(&p, 0, 1), put(&p, 0, 1), put(&p, 0, 1); /* no N8 count */
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "cut short in its IO element"));
    pkt_begin(&p, 0x8E, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 0), put(&p, 0, 2), put(&p, 0, 2);
    put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2); /* no NX count */
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "cut short in its IO element"));
    /* The same 8E record read as Codec 8 leaves bytes over. */
    p.b[8] = 0x08;
    pkt_recrc(&p);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);

    /* A record cut inside its GPS element. */
    pkt_begin(&p, 0x08, 1);
    put(&p, NOW_MS, 8), put(&p, 0, 1), put(&p, 0, 4);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);

    /* A data field too short to hold the codec and both counts: refused from the header. */
    uint8_t tiny[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    assert_int_equal(decode(tiny, 8, NOW_US), AM_EINVAL);
    pkt_free(&p);
}

static void test_zero_records(void **state)
{
    (void)state;
    struct pkt p = {0};
    pkt_begin(&p, 0x08, 0);
    size_t n = pkt_end(&p, 0);
    assert_int_equal(n, 15);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 0);
    assert_int_equal(used, 15);
    pkt_free(&p);
}

static void test_unknown_codec(void **state)
{
    (void)state;
    struct bytes c12 = unhex(REAL_C12);
    assert_int_equal(decode(c12.b, c12.n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "0x0c"));
    assert_int_equal(decode(c12.b, 9, NOW_US), AM_EINVAL); /* as soon as the codec is there */
    free(c12.b);
    const uint8_t codecs[] = {0x00, 0x07, 0x0C, 0x0D, 0x0E, 0x10, 0x8D, 0x8F, 0xFF};
    struct pkt p = {0};
    for (size_t i = 0; i < sizeof(codecs); i++) {
        size_t n = build_c8(&p, 1);
        p.b[8] = codecs[i];
        pkt_recrc(&p);
        assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    }
    pkt_free(&p);
}

static void test_preamble(void **state)
{
    (void)state;
    const uint8_t one[] = {0x01};
    assert_int_equal(decode(one, 1, NOW_US), AM_EINVAL);
    const uint8_t late[] = {0, 0, 0, 0x80};
    assert_int_equal(decode(late, 4, NOW_US), AM_EINVAL);
    assert_int_equal(decode(late, 3, NOW_US), AVL_NEED_MORE);
    assert_int_equal(decode(late, 0, NOW_US), AVL_NEED_MORE);
    const char *http = "GET / HTTP/1.1\r\n\r\n";
    assert_int_equal(decode((const uint8_t *)http, strlen(http), NOW_US), AM_EINVAL);
    /* A handshake where a packet should be: 0x0F is not a zero byte. */
    struct bytes h = unhex("000F333536333037303432343431303133");
    assert_int_equal(decode(h.b, h.n, NOW_US), AM_EINVAL);
    free(h.b);
    struct pkt p = {0};
    size_t n = build_c8(&p, 1);
    p.b[2] = 0x01;
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    pkt_free(&p);
}

static void test_length_limit(void **state)
{
    (void)state;
    uint8_t head[8] = {0, 0, 0, 0, 0x00, 0x01, 0x00, 0x01}; /* 65537 */
    assert_int_equal(decode(head, 8, NOW_US), AM_ETOOBIG);
    head[4] = head[5] = head[6] = head[7] = 0xFF;
    assert_int_equal(decode(head, 8, NOW_US), AM_ETOOBIG);

    /* A real packet of exactly AVL_TLT_MAX_PACKET bytes of data: one record, one NX value. */
    struct pkt p = {0};
    size_t big = AVL_TLT_MAX_PACKET - 45;
    uint8_t *value = malloc(big);
    assert_non_null(value);
    memset(value, 0xA5, big);
    pkt_begin(&p, 0x8E, 1);
    rec_gps(&p, NOW_MS, 0, 31.63, -8.0, 460, 180, 10, 30);
    put(&p, 0, 2), put(&p, 1, 2);
    put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2);
    put(&p, 1, 2), put(&p, 9999, 2), put(&p, big, 2), put_bytes(&p, value, big);
    size_t n = pkt_end(&p, 1);
    assert_int_equal(n, 8 + AVL_TLT_MAX_PACKET + 4);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    const char *hex = attr_str(&fixes[0], "io9999");
    assert_int_equal(strlen(hex), 2 * big);
    assert_memory_equal(hex, "a5a5a5a5", 8);
    release_all();
    assert_int_equal(decode(p.b, n - 1, NOW_US), AVL_NEED_MORE);

    /* One byte more is refused. */
    pkt_begin(&p, 0x8E, 1);
    rec_gps(&p, NOW_MS, 0, 31.63, -8.0, 460, 180, 10, 30);
    put(&p, 0, 2), put(&p, 1, 2);
    put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2), put(&p, 0, 2);
    put(&p, 1, 2), put(&p, 9999, 2), put(&p, big + 1, 2), put_bytes(&p, value, big), put(&p, 0, 1);
    n = pkt_end(&p, 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_ETOOBIG);
    assert_int_equal(decode(p.b, 8, NOW_US), AM_ETOOBIG);
    free(value);
    pkt_free(&p);
}

/* A one-record Codec 8 packet at (lat, lon) with `sats` satellites, at time ms. */
static size_t build_at(struct pkt *p, double lat, double lon, uint8_t sats, uint64_t ms)
{
    pkt_begin(p, 0x08, 1);
    rec_gps(p, ms, 0, lat, lon, 10, 45, sats, 60);
    io8_small(p);
    return pkt_end(p, 1);
}

static void test_coordinates(void **state)
{
    (void)state;
    struct pkt p = {0};
    const double bad[][2] = {{90.0000001, 0.5},  {-90.0000001, 0.5}, {45, 180.0000001},
                             {45, -180.0000001}, {200, 10},          {-214, -214}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = build_at(&p, bad[i][0], bad[i][1], 8, NOW_MS);
        assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
        assert_non_null(strstr(why, "coordinates out of range"));
    }
    size_t n = build_at(&p, -90, 180, 8, NOW_MS);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    near(fixes[0].lat, -90, 0);
    near(fixes[0].lon, 180, 0);
    release_all();
    /* On the equator or the meridian, but not both, is a position. */
    n = build_at(&p, 0, 9.45, 8, NOW_MS);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    near(fixes[0].lat, 0, 0);
    release_all();

    /* One bad record among good ones refuses the packet, and nothing is left allocated. */
    pkt_begin(&p, 0x08, 3);
    rec_gps(&p, NOW_MS - 2000, 0, 33.6, -7.6, 10, 0, 5, 0), io8_small(&p);
    rec_gps(&p, NOW_MS - 1000, 0, 33.6, -7.6, 10, 0, 5, 0), io8_small(&p);
    rec_gps(&p, NOW_MS, 0, 95, -7.6, 10, 0, 5, 0), io8_small(&p);
    n = pkt_end(&p, 3);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL); /* decode() checks attrs are NULL */
    assert_non_null(strstr(why, "record 2"));
    pkt_free(&p);
}

static void test_no_fix(void **state)
{
    (void)state;
    struct pkt p = {0};
    /* Between two positions, a record at (0, 0): decoded, acknowledged, position unknown. */
    pkt_begin(&p, 0x08, 3);
    rec_gps(&p, NOW_MS - 2000, 0, 33.6, -7.6, 10, 0, 5, 30), io8_small(&p);
    rec_gps(&p, NOW_MS - 1000, 2, 0, 0, 0, 0, 0, 0);
    put(&p, 2, 1), put(&p, 1, 1), put(&p, 1, 1), put(&p, 2, 1), put(&p, 1, 1); /* DIN2 pressed */
    put(&p, 0, 1), put(&p, 0, 1), put(&p, 0, 1);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 10, 0, 5, 30), io8_small(&p);
    size_t n = pkt_end(&p, 3);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 3);
    assert_no_fix(&fixes[1], NOW_MS - 1000);
    assert_int_equal(attr_int(&fixes[1], "priority"), 2);
    assert_int_equal(attr_int(&fixes[1], "io2"), 1);
    assert_int_equal(avl_fix_check(&fixes[0], NOW_US, NULL, 0), 0);
    assert_int_equal(avl_fix_check(&fixes[2], NOW_US, NULL, 0), 0);
    release_all();
    /* (0, 0) is no fix whatever the satellite count says. */
    n = build_at(&p, 0, 0, 7, NOW_MS);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_true(isnan(fixes[0].lat));
    assert_int_equal(fixes[0].satellites, 7);
    release_all();
    /* Without a fix the time must still be right. */
    n = build_at(&p, 0, 0, 0, NOW_MS + 3600000);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "future"));
    pkt_free(&p);
}

static void test_time_window(void **state)
{
    (void)state;
    struct pkt p = {0};
    size_t n = build_at(&p, 33.6, -7.6, 6, NOW_MS + AVL_FUTURE_S * 1000 + 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    assert_non_null(strstr(why, "future"));
    n = build_at(&p, 33.6, -7.6, 6, NOW_MS + AVL_FUTURE_S * 1000);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    release_all();
    n = build_at(&p, 33.6, -7.6, 6, NOW_MS - AVL_PAST_S * 1000LL);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    release_all();
    /* Older than the window: decoded, its time as sent, so that the listener acknowledges
     * and drops it (refused, the tracker would resend it for ever). */
    n = build_at(&p, 33.6, -7.6, 6, NOW_MS - AVL_PAST_S * 1000LL - 1);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 1);
    assert_int_equal(fixes[0].time_us, (NOW_MS - AVL_PAST_S * 1000LL - 1) * 1000);
    assert_true(fixes[0].time_us < NOW_US - AVL_PAST_S * 1000000LL);
    near(fixes[0].lat, 33.6, 1e-7);
    release_all();
    /* The epoch (a clock never set) is old too; old and without a fix, the same. */
    n = build_at(&p, 33.6, -7.6, 6, 0);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(fixes[0].time_us, 0);
    release_all();
    n = build_at(&p, 0, 0, 0, NOW_MS - 30LL * 86400000);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_true(isnan(fixes[0].lat));
    release_all();
    /* Old, but wrong otherwise: still refused. */
    n = build_at(&p, 91, -7.6, 6, NOW_MS - 30LL * 86400000);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    /* Far out: milliseconds that microseconds cannot hold. */
    n = build_at(&p, 33.6, -7.6, 6, UINT64_MAX);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    n = build_at(&p, 33.6, -7.6, 6, (uint64_t)INT64_MAX / 1000 + 1);
    assert_int_equal(decode(p.b, n, NOW_US), AM_EINVAL);
    pkt_free(&p);
}

static void test_values_out_of_range_are_unknown(void **state)
{
    (void)state;
    struct pkt p = {0};
    pkt_begin(&p, 0x08, 3);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, 20001, 361, 5, 721), io8_small(&p);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, -1001, 360, 5, 65535), io8_small(&p);
    rec_gps(&p, NOW_MS, 0, 33.6, -7.6, -32768, 65535, 5, 0), io8_small(&p);
    size_t n = pkt_end(&p, 3);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_true(isnan(fixes[0].altitude_m) && isnan(fixes[0].heading_deg));
    assert_true(isnan(fixes[0].speed_mps));
    assert_true(isnan(fixes[1].altitude_m) && isnan(fixes[1].speed_mps));
    near(fixes[1].heading_deg, 360, 0);
    assert_true(isnan(fixes[2].altitude_m) && isnan(fixes[2].heading_deg));
    near(fixes[2].speed_mps, 0, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(avl_fix_check(&fixes[i], NOW_US, NULL, 0), 0);
    release_all();
    pkt_free(&p);
}

static void test_back_to_back(void **state)
{
    (void)state;
    struct pkt a = {0}, b = {0};
    size_t na = build_c8(&a, 2);
    size_t nb = build_c8(&b, 3);
    uint8_t *both = malloc(na + nb);
    assert_non_null(both);
    memcpy(both, a.b, na);
    memcpy(both + na, b.b, nb);
    assert_int_equal(decode(both, na + nb, NOW_US), 0);
    assert_int_equal(nfix, 2);
    assert_int_equal(used, na);
    assert_null(fixes[2].attrs);
    release_all();
    assert_int_equal(decode(both + na, nb, NOW_US), 0);
    assert_int_equal(nfix, 3);
    assert_int_equal(used, nb);
    release_all();
    /* A whole packet then a piece of the next: the first is decoded, the rest waits. */
    for (size_t extra = 1; extra < nb; extra += 7) {
        assert_int_equal(decode(both, na + extra, NOW_US), 0);
        assert_int_equal(used, na);
        release_all();
        assert_int_equal(decode(both + na, extra, NOW_US), AVL_NEED_MORE);
    }
    /* Garbage after a packet is the next call's business. */
    memset(both + na, 0xFF, nb);
    assert_int_equal(decode(both, na + nb, NOW_US), 0);
    assert_int_equal(used, na);
    release_all();
    assert_int_equal(decode(both + na, nb, NOW_US), AM_EINVAL);
    free(both);
    pkt_free(&a);
    pkt_free(&b);
}

static void test_room(void **state)
{
    (void)state;
    struct pkt p = {0};
    size_t n = build_c8(&p, 3);
    assert_int_equal(decode_at(p.b, n, NOW_US, 2), AM_ETOOBIG);
    assert_int_equal(decode_at(p.b, 10, NOW_US, 2), AM_ETOOBIG);
    assert_int_equal(decode_at(p.b, n, NOW_US, 3), 0);
    assert_int_equal(nfix, 3);
    release_all();
    /* The most a packet can hold: 255 records. */
    n = build_c8(&p, 255);
    assert_int_equal(decode(p.b, n, NOW_US), 0);
    assert_int_equal(nfix, 255);
    assert_int_equal(fixes[254].time_us, (NOW_MS - 60000) * 1000);
    release_all();
    pkt_free(&p);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct pkt p = {0};
    size_t n = build_c8(&p, 1);
    size_t nf, u;
    char w[64];
    assert_int_equal(avl_tlt_decode(p.b, n, NULL, NOW_US, fixes, 255, &nf, &u, w, sizeof(w)),
                     AM_EINVAL);
    char longid[AVL_DEVICE_SZ + 1];
    memset(longid, '7', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(avl_tlt_decode(p.b, n, longid, NOW_US, fixes, 255, &nf, &u, w, sizeof(w)),
                     AM_EINVAL);
    /* A device id the fix check refuses. */
    assert_int_equal(avl_tlt_decode(p.b, n, "35 63", NOW_US, fixes, 255, &nf, &u, w, sizeof(w)),
                     AM_EINVAL);
    assert_int_equal(avl_tlt_decode(p.b, n, IMEI, NOW_US, fixes, 255, NULL, &u, w, sizeof(w)),
                     AM_EINVAL);
    /* No room for a reason is fine. */
    assert_int_equal(avl_tlt_decode(p.b, n - 1, IMEI, NOW_US, fixes, 255, &nf, &u, NULL, 0),
                     AVL_NEED_MORE);
    assert_int_equal(avl_tlt_decode(p.b, n, IMEI, NOW_US, fixes, 255, &nf, &u, NULL, 0), 0);
    assert_int_equal(nf, 1);
    release_all();
    pkt_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_doc_codec8),
        cmocka_unit_test(test_doc_codec8e),
        cmocka_unit_test(test_real_codec8),
        cmocka_unit_test(test_real_codec8e),
        cmocka_unit_test(test_io_every_size_codec8),
        cmocka_unit_test(test_io_every_size_codec8e),
        cmocka_unit_test(test_attribute_cap),
        cmocka_unit_test(test_need_more_every_split),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_counts_that_lie),
        cmocka_unit_test(test_zero_records),
        cmocka_unit_test(test_unknown_codec),
        cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_coordinates),
        cmocka_unit_test(test_no_fix),
        cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_values_out_of_range_are_unknown),
        cmocka_unit_test(test_back_to_back),
        cmocka_unit_test(test_room),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
