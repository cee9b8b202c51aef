/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * listeners.c - where devices connect: the OsmAnd HTTP port (5055 by
 * default, as Traccar's), on which the Traccar Client phone app reports,
 * and the Teltonika TCP port (5027) for trackers speaking Codec 8 / 8E.
 * A report is acknowledged only once its batch is durable (fleet.c), so
 * that the device keeps and resends what a crash would have lost. OsmAnd
 * is served by its own HTTP/1.1 server on a raw TCP listener
 * (osmand_http.c): an unknown device gets 400, a flood 429. Teltonika: an unknown IMEI gets
 * 0x00 and the connection closes; a damaged packet closes it; a packet is
 * acknowledged with its record count when all its records are durable,
 * and a packet that cannot be taken whole is not acknowledged (the tracker
 * sends it again; the trail keeps one position per device and time).
 * Records older than 7 days are acknowledged with their packet and
 * dropped (amane_avl_stale_dropped_total).
 */
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "avl/osmand_http.h"
#include "http/http.h"

/* ---------------------------------------------------------------- Teltonika */

struct tlt_conn {
    struct avl *avl;
    struct http_raw *raw;
    char imei[16];
    bool known;
    size_t len;
    uint8_t buf[AVL_TLT_MAX_PACKET + 64];
};

/* A packet waiting for its records to be durable before its acknowledgement. */
struct tlt_ack {
    struct http_raw *raw; /* held */
    int remaining;        /* records not yet durable, plus one while the packet is being read */
    bool failed;
    uint32_t count;
    pthread_mutex_t mu;
};

static void ack_step(struct tlt_ack *k, int rc)
{
    pthread_mutex_lock(&k->mu);
    if (rc)
        k->failed = true;
    bool last = --k->remaining == 0;
    pthread_mutex_unlock(&k->mu);
    if (!last)
        return;
    if (k->failed) {
        http_raw_close(k->raw);
    } else {
        uint8_t b[4] = {(uint8_t)(k->count >> 24), (uint8_t)(k->count >> 16),
                        (uint8_t)(k->count >> 8), (uint8_t)k->count};
        http_raw_send(k->raw, b, 4);
    }
    http_raw_release(k->raw);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static void tlt_durable(void *arg, int rc)
{
    ack_step(arg, rc);
}

static void *tlt_open(void *arg, struct http_raw *raw, const char *remote)
{
    (void)remote;
    struct tlt_conn *c = calloc(1, sizeof(*c));
    if (c) {
        c->avl = arg;
        c->raw = raw;
    }
    return c;
}

static void tlt_close(void *arg, void *state)
{
    (void)arg;
    free(state);
}

static struct am_counter c_tlt_stale = {
    "amane_avl_stale_dropped_total",
    "Teltonika records older than 7 days: acknowledged with their packet and dropped", NULL, 0,
    NULL};

/* Takes one decoded packet: ingests its positions, acknowledges it once they are durable. */
static int tlt_packet(struct tlt_conn *c, struct avl_fix *fixes, size_t n)
{
    int64_t oldest_us = am_now_us() - AVL_PAST_S * 1000000LL;
    struct tlt_ack *k = calloc(1, sizeof(*k));
    if (!k) {
        for (size_t i = 0; i < n; i++)
            avl_fix_release(&fixes[i]);
        return -1;
    }
    pthread_mutex_init(&k->mu, NULL);
    k->raw = c->raw;
    http_raw_hold(c->raw);
    k->remaining = 1;
    k->count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(fixes[i].lat)) { /* a record without a fix: acknowledged, not a position */
            avl_fix_release(&fixes[i]);
            continue;
        }
        /* Too old for the trail: acknowledged, or the tracker would resend it for ever. */
        if (fixes[i].time_us < oldest_us) {
            am_counter_add(&c_tlt_stale, 1);
            avl_fix_release(&fixes[i]);
            continue;
        }
        pthread_mutex_lock(&k->mu);
        k->remaining++;
        pthread_mutex_unlock(&k->mu);
        int rc = avl_ingest(c->avl, AVL_TELTONIKA, &fixes[i], tlt_durable, k);
        if (rc)
            ack_step(k, rc);
    }
    ack_step(k, 0);
    return 0;
}

static int tlt_data(void *arg, void *state, const uint8_t *in, size_t len)
{
    struct tlt_conn *c = state;
    struct avl *a = arg;
    if (len > sizeof(c->buf) - c->len)
        return -1; /* more than a packet's worth unread: not a tracker */
    memcpy(c->buf + c->len, in, len);
    c->len += len;
    size_t used = 0;
    if (!c->known) {
        int rc = avl_tlt_handshake(c->buf, c->len, c->imei, &used);
        if (rc == AVL_NEED_MORE)
            return 0;
        bool ok = rc == 0 && avl_device_registered(a, c->imei, AVL_TELTONIKA);
        uint8_t answer = ok ? 1 : 0;
        http_raw_send(c->raw, &answer, 1);
        if (!ok) {
            http_raw_close(c->raw);
            return 0;
        }
        c->known = true;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    static struct avl_fix fixes[AVL_TLT_MAX_RECORDS]; /* the loop is one thread */
    while (c->len) {
        size_t n = 0;
        char why[160];
        /* Room for the packet's record count once the header says it (the decoder clears
         * every slot it is given: 255 of them for a packet of 10 cost more than its records). */
        size_t room = c->len > 9 ? c->buf[9] : AVL_TLT_MAX_RECORDS;
        int rc = avl_tlt_decode(c->buf, c->len, c->imei, am_now_us(), fixes, room, &n, &used, why,
                                sizeof(why));
        if (rc == AVL_NEED_MORE)
            return 0;
        if (rc) {
            am_warn("avl", "teltonika packet refused", "device=%s why=\"%s\"", c->imei, why);
            return -1;
        }
        if (tlt_packet(c, fixes, n))
            return -1;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    return 0;
}

static const struct http_raw_ops tlt_ops = {tlt_open, tlt_data, tlt_close};

int avl_listen(struct avl *a, struct http_server *srv, int osmand_port, int *osmand_bound,
               int teltonika_port, int *teltonika_bound)
{
    static bool registered;
    if (!registered) {
        registered = true;
        am_counter_register(&c_tlt_stale);
    }
    int rc = 0;
    if (osmand_port >= 0)
        rc = avl_osmand_listen(a, srv, osmand_port, osmand_bound);
    if (!rc && teltonika_port >= 0)
        rc = http_listen_raw(srv, "teltonika", teltonika_port, &tlt_ops, a, teltonika_bound);
    return rc;
}
