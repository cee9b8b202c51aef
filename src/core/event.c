/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * event.c - the committed event shared by the store (which produces it), the
 * bus and the stream (which deliver it). Reference counted, immutable.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct am_event *am_event_new(int64_t seq, int64_t ts_us, const char *type, const char *actor,
                              const char *data, size_t data_len)
{
    struct am_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    ev->data = malloc(data_len + 1);
    if (!ev->data) {
        free(ev);
        return NULL;
    }
    memcpy(ev->data, data, data_len);
    ev->data[data_len] = '\0';
    ev->data_len = data_len;
    ev->seq = seq;
    ev->ts_us = ts_us;
    am_strlcpy(ev->type, type, sizeof(ev->type));
    am_strlcpy(ev->actor, actor ? actor : "", sizeof(ev->actor));
    ev->refs = 1;
    return ev;
}

void am_event_ref(struct am_event *ev)
{
    __atomic_fetch_add(&ev->refs, 1, __ATOMIC_RELAXED);
}

void am_event_unref(struct am_event *ev)
{
    if (ev && __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(ev->data);
        free(ev);
    }
}

json_t *am_event_json(const struct am_event *ev)
{
    json_t *data = json_loadb(ev->data, ev->data_len, 0, NULL);
    if (!data)
        return NULL;
    char ts[AM_TIME_BUFSZ];
    char hash[2 * AM_SHA256_LEN + 1];
    am_hex(ev->hash, AM_SHA256_LEN, hash);
    return json_pack("{sI s s s s s s s o s s}", "seq", (json_int_t)ev->seq, "ts",
                     am_time_fmt(ev->ts_us, ts, sizeof(ts)), "type", ev->type, "actor", ev->actor,
                     "data", data, "hash", hash);
}
