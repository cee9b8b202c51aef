/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bus.h - in-process publish/subscribe of committed events.
 *
 * The store hands each group commit's events to bus_publish() on its writer
 * thread; subscribers (the WebSocket stream, rules, later the MQTT bridge
 * between nodes) are called in subscription order, in sequence order. A
 * subscriber must not block: it takes references and queues work.
 */
#ifndef AM_BUS_H
#define AM_BUS_H

#include "core/core.h"

struct bus;
typedef void (*bus_fn)(void *arg, struct am_event *const *evs, size_t n);

int bus_new(struct bus **out);
void bus_free(struct bus *b);
/* Subscribes before the store starts; at most 16 subscribers. */
int bus_subscribe(struct bus *b, bus_fn fn, void *arg);
/* Delivers a batch of committed events. Signature fits store_opts.on_commit. */
void bus_publish(void *bus, struct am_event *const *evs, size_t n);

#endif
