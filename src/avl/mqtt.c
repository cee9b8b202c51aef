/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mqtt.c - connected vehicles through an MQTT broker (mosquitto): amaned
 * takes the telemetry published on amane/v1/units/<device>/telemetry at
 * QoS 1 as fixes of the device named in the topic (a vehicle bound with
 * protocol "mqtt"), and publishes commands to amane/v1/units/<device>/commands.
 *
 * The intake is `avl.mqtt_clients` MQTT v5 clients sharing one subscription
 * ($share/<group>/amane/v1/units/+/telemetry: the broker hands each message
 * to one of them), each with a persistent session (a fixed client id, a
 * session that never expires) and its own thread. A thread drives its
 * libmosquitto client itself (mosquitto_loop_read / _write / _misc, the
 * client in "threaded" mode so that nothing is written behind our back) in
 * rounds: it reads what the socket holds (at most ROUND_MAX messages) and
 * ingests it, stops reading, waits until the trail batches holding those
 * fixes are durable, and only then writes the PUBACKs libmosquitto queued
 * for them. So the broker forgets a message only once its position is
 * stored: a crash of amaned loses nothing the broker gave it, and a batch
 * that fails drops the connection unacknowledged, so that the broker sends
 * the messages again. Several clients keep the store's writer busy while
 * one of them waits. Redelivered messages add nothing: the trail keeps one
 * position per device and time.
 *
 * A client reconnects by itself after a broker restart (1 s, backing off to
 * 10 s) and subscribes again on every connection. The sessions of clients
 * beyond avl.mqtt_clients (left by an earlier, larger setting) are taken
 * over once at start: what they hold is ingested, then they are ended, so
 * that no share of the messages waits in a session nobody reads.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "avl/avl.h"
#include "core/core.h"

#define TOPIC_PREFIX    "amane/v1/units/"
#define TELEMETRY_TOPIC TOPIC_PREFIX "+/telemetry"
#define KEEPALIVE_S     30
#define ROUND_MAX       8192  /* messages read before their acknowledgements are due */
#define RECEIVE_MAX     65535 /* unacknowledged messages the broker may send a client (v5) */
#define RETIRE_IDLE_US  1000000

enum client_phase {
    PH_READ, /* reading: every message read so far is acknowledged (or queued to be) */
    PH_WAIT, /* a round was read: its batches are not durable yet, nothing is written */
    PH_DROP, /* a batch failed: the connection is dropped, its PUBACKs unwritten */
};

struct mqtt_client {
    struct avl_mqtt *q;
    struct mosquitto *mosq;
    char id[96];
    int index;
    bool retiring; /* a leftover session: drained, then ended */
    bool retired;
    bool thread_started;
    pthread_t thread;
    int wake;           /* eventfd: a round became durable, a command was queued, stop */
    atomic_int pending; /* fixes ingested whose batch is not durable yet */
    atomic_bool failed; /* one of them failed to be written */
    enum client_phase phase;
    unsigned seen; /* PUBLISH packets read on this connection */
    bool subscribed;
    int backoff_s;
    int64_t next_connect_us;
    int64_t last_msg_us; /* retiring: when it last took a message */
};

struct avl_mqtt {
    struct avl *avl;
    char host[256];
    int port;
    char share_topic[160];
    int nclients; /* the intake; clients[nclients..] are retiring sessions */
    int nall;
    atomic_bool stop;
    atomic_int nsubscribed;
    mosquitto_property *connect_props;
    struct mqtt_client clients[AVL_MQTT_MAX_CLIENTS];
};

static struct am_counter c_msgs = {"amane_avl_mqtt_messages_total", "MQTT telemetry messages", NULL,
                                   0, NULL};
static struct am_counter c_bad = {"amane_avl_mqtt_refused_total",
                                  "MQTT telemetry messages refused (bad topic, payload, device)",
                                  NULL, 0, NULL};
static struct am_counter c_connects = {"amane_avl_mqtt_connects_total",
                                       "Connections to the MQTT broker", NULL, 0, NULL};
static struct am_counter c_failed = {
    "amane_avl_mqtt_unacknowledged_total",
    "MQTT connections dropped unacknowledged because a trail batch failed", NULL, 0, NULL};

static void wake(struct mqtt_client *c)
{
    uint64_t one = 1;
    if (write(c->wake, &one, sizeof(one)) < 0) {
        /* The counter is full: the thread is awake anyway. */
    }
}

/* ----------------------------------------------------------- callbacks */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    (void)props;
    struct mqtt_client *c = obj;
    if (rc != 0) {
        am_warn("avl", "mqtt connection refused", "client=%s rc=%d why=\"%s\"", c->id, rc,
                mosquitto_reason_string(rc));
        return;
    }
    c->backoff_s = 0;
    am_counter_add(&c_connects, 1);
    if (c->retiring) {
        /* No session left: nothing to take over. Else stop its share and drain it. */
        bool present = flags & 1;
        am_debug("avl", "mqtt leftover session", "client=%s present=%d", c->id, present);
        c->last_msg_us = am_mono_us();
        if (present)
            mosquitto_unsubscribe(mosq, NULL, c->q->share_topic);
        return;
    }
    am_debug("avl", "mqtt client connected", "client=%s", c->id);
    int src = mosquitto_subscribe(mosq, NULL, c->q->share_topic, 1);
    /* The subscription of versions with one client, kept by its session: not twice. */
    if (src == MOSQ_ERR_SUCCESS && c->index == 0)
        src = mosquitto_unsubscribe(mosq, NULL, TELEMETRY_TOPIC);
    if (src != MOSQ_ERR_SUCCESS)
        am_warn("avl", "mqtt subscribe failed", "client=%s why=\"%s\"", c->id,
                mosquitto_strerror(src));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    (void)mosq;
    (void)mid;
    struct mqtt_client *c = obj;
    if (n < 1 || granted[0] > 2) {
        am_warn("avl", "mqtt subscription refused by the broker", "client=%s topic=%s", c->id,
                c->q->share_topic);
        return;
    }
    if (c->subscribed)
        return;
    c->subscribed = true;
    /* "connected" once the whole intake is: every client subscribed. */
    if (atomic_fetch_add(&c->q->nsubscribed, 1) + 1 == c->q->nclients)
        am_info("avl", "mqtt connected", "clients=%d", c->q->nclients);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *p)
{
    (void)mosq;
    (void)p;
    struct mqtt_client *c = obj;
    if (c->subscribed) {
        c->subscribed = false;
        atomic_fetch_sub(&c->q->nsubscribed, 1);
    }
    if (c->retiring)
        c->retired = true;
    else if (rc != 0 && !atomic_load(&c->q->stop))
        am_warn("avl", "mqtt connection lost; reconnecting", "client=%s", c->id);
}

/* The device of a telemetry topic: amane/v1/units/<device>/telemetry. */
static bool topic_device(const char *topic, char *dev, size_t devsz)
{
    size_t pre = strlen(TOPIC_PREFIX);
    if (strncmp(topic, TOPIC_PREFIX, pre) != 0)
        return false;
    const char *d = topic + pre, *slash = strchr(d, '/');
    if (!slash || strcmp(slash, "/telemetry") != 0 || slash == d || (size_t)(slash - d) >= devsz)
        return false;
    memcpy(dev, d, (size_t)(slash - d));
    dev[slash - d] = '\0';
    return avl_device_id_ok(dev);
}

/* On the store's writer: the batch holding one of the client's fixes is durable (or failed). */
static void on_durable(void *arg, int rc)
{
    struct mqtt_client *c = arg;
    if (rc)
        atomic_store(&c->failed, true);
    if (atomic_fetch_sub(&c->pending, 1) == 1)
        wake(c);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    (void)mosq;
    struct mqtt_client *c = obj;
    c->seen++;
    c->last_msg_us = am_mono_us();
    am_counter_add(&c_msgs, 1);
    char dev[AVL_DEVICE_SZ], why[200] = "";
    struct avl_fix fix;
    if (!m->topic || !topic_device(m->topic, dev, sizeof(dev)) || m->payloadlen < 0) {
        am_counter_add(&c_bad, 1);
        return;
    }
    int rc = avl_mqtt_decode(dev, m->payload, (size_t)m->payloadlen, am_now_us(), &fix, why,
                             sizeof(why));
    if (rc == 0) {
        /* Counted before: the batch may be durable before avl_ingest returns. */
        atomic_fetch_add(&c->pending, 1);
        rc = avl_ingest(c->q->avl, AVL_MQTT, &fix, on_durable, c);
        if (rc)
            atomic_fetch_sub(&c->pending, 1);
    }
    if (rc) {
        am_counter_add(&c_bad, 1);
        am_debug("avl", "mqtt message refused", "device=%s rc=%d why=\"%s\"", dev, rc, why);
    }
}

/* ----------------------------------------------------------- the client's thread */

static void schedule_reconnect(struct mqtt_client *c)
{
    c->backoff_s = c->backoff_s ? (c->backoff_s * 2 > 10 ? 10 : c->backoff_s * 2) : 1;
    c->next_connect_us = am_mono_us() + (int64_t)c->backoff_s * 1000000;
}

/* After a loop call: libmosquitto closes the socket of a lost connection (callbacks run). */
static bool lost(struct mqtt_client *c)
{
    if (mosquitto_socket(c->mosq) >= 0)
        return false;
    c->phase = PH_READ;
    if (!c->retiring)
        schedule_reconnect(c);
    return true;
}

static void try_connect(struct mqtt_client *c)
{
    struct avl_mqtt *q = c->q;
    if (c->subscribed) { /* a connection dropped on purpose (PH_DROP): no callback told */
        c->subscribed = false;
        atomic_fetch_sub(&q->nsubscribed, 1);
    }
    atomic_store(&c->failed, false);
    c->phase = PH_READ;
    c->seen = 0;
    /* Also drops what libmosquitto had queued for the old connection (PUBACKs included). */
    int rc =
        mosquitto_connect_bind_v5(c->mosq, q->host, q->port, KEEPALIVE_S, NULL, q->connect_props);
    if (rc != MOSQ_ERR_SUCCESS) {
        if (c->retiring) {
            c->retired = true; /* the broker is away: looked at again at the next start */
            return;
        }
        if (!c->backoff_s)
            am_warn("avl", "cannot reach the mqtt broker; retrying", "client=%s why=\"%s\"", c->id,
                    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        schedule_reconnect(c);
    }
}

/* Reads what the socket holds, at most ROUND_MAX messages. */
static void read_round(struct mqtt_client *c)
{
    unsigned first = c->seen;
    while (c->seen - first < ROUND_MAX) {
        unsigned before = c->seen;
        mosquitto_loop_read(c->mosq, 1);
        /* No whole message: the socket is empty, or it was another packet (poll again). */
        if (mosquitto_socket(c->mosq) < 0 || c->seen == before)
            break;
    }
}

static void wait_wake(struct mqtt_client *c, int ms)
{
    struct pollfd w = {c->wake, POLLIN, 0};
    uint64_t v;
    if (poll(&w, 1, ms < 1 ? 1 : ms > 1000 ? 1000 : ms) > 0 && read(c->wake, &v, sizeof(v)) < 0) {
        /* Spurious: nothing to read. */
    }
}

static void *client_main(void *arg)
{
    struct mqtt_client *c = arg;
    struct avl_mqtt *q = c->q;
    for (;;) {
        bool stopping = atomic_load(&q->stop);
        int pending = atomic_load(&c->pending);
        int64_t now = am_mono_us();
        int sock = mosquitto_socket(c->mosq);
        if (sock < 0 || c->phase == PH_DROP) {
            /* Never leave (or reconnect) before the fixes taken are settled: they point here. */
            if (pending > 0) {
                wait_wake(c, 1000);
            } else if (stopping || c->retired) {
                break;
            } else if (now >= c->next_connect_us) {
                try_connect(c);
            } else {
                wait_wake(c, (int)((c->next_connect_us - now) / 1000) + 1);
            }
            continue;
        }
        if (c->phase == PH_WAIT && pending == 0) {
            /* The round is durable: its PUBACKs may go, unless a batch failed. */
            if (atomic_load(&c->failed)) {
                am_counter_add(&c_failed, 1);
                am_warn("avl", "a trail batch failed; mqtt messages left unacknowledged",
                        "client=%s", c->id);
                c->phase = PH_DROP; /* the reconnection drops the queued PUBACKs */
                schedule_reconnect(c);
                continue;
            }
            c->phase = PH_READ;
        }
        bool reading = c->phase == PH_READ;
        if (stopping && reading) {
            /* Everything taken is durable: acknowledged, then a clean goodbye. */
            mosquitto_disconnect(c->mosq);
            mosquitto_loop_write(c->mosq, 1);
            break;
        }
        if (c->retiring && reading && !mosquitto_want_write(c->mosq) &&
            now - c->last_msg_us > RETIRE_IDLE_US) {
            /* Drained: end the session (expiry 0) so that the broker forgets it. */
            mosquitto_property *p = NULL;
            mosquitto_property_add_int32(&p, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 0);
            mosquitto_disconnect_v5(c->mosq, 0, p);
            mosquitto_property_free_all(&p);
            mosquitto_loop_write(c->mosq, 1);
            am_debug("avl", "mqtt leftover session ended", "client=%s", c->id);
            c->retired = true;
            break;
        }
        if (reading && mosquitto_want_write(c->mosq)) {
            mosquitto_loop_write(c->mosq, 1);
            if (lost(c))
                continue;
        }
        struct pollfd p[2] = {{c->wake, POLLIN, 0}, {sock, 0, 0}};
        if (reading)
            p[1].events = POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0);
        int n = poll(p, 2, 1000);
        if (n > 0 && p[0].revents) {
            uint64_t v;
            if (read(c->wake, &v, sizeof(v)) < 0) {
                /* Spurious: nothing to read. */
            }
        }
        if (n > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            read_round(c);
            if (lost(c))
                continue;
            if (atomic_load(&c->pending) > 0)
                c->phase = PH_WAIT;
        }
        if (n > 0 && (p[1].revents & POLLOUT) && c->phase == PH_READ) {
            mosquitto_loop_write(c->mosq, 1);
            if (lost(c))
                continue;
        }
        /* Keep-alive: a PINGREQ is queued (written with the next acknowledgements). */
        mosquitto_loop_misc(c->mosq);
        lost(c);
    }
    return NULL;
}

/* ----------------------------------------------------------- life cycle */

static int client_init(struct avl_mqtt *q, int i, const char *client_id, bool retiring)
{
    struct mqtt_client *c = &q->clients[i];
    c->q = q;
    c->index = i;
    c->retiring = retiring;
    /* The first keeps the plain id: its session is the one of a single client. */
    if (i == 0)
        am_strlcpy(c->id, client_id, sizeof(c->id));
    else
        snprintf(c->id, sizeof(c->id), "%s-%d", client_id, i + 1);
    c->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake < 0)
        return AM_EIO;
    c->mosq = mosquitto_new(c->id, false, c);
    if (!c->mosq)
        return AM_ENOMEM;
    mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(c->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, RECEIVE_MAX);
    /* Nothing written but by this client's thread, when it chooses. */
    mosquitto_threaded_set(c->mosq, true);
    mosquitto_connect_v5_callback_set(c->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
    mosquitto_subscribe_callback_set(c->mosq, on_subscribe);
    mosquitto_message_callback_set(c->mosq, on_message);
    if (pthread_create(&c->thread, NULL, client_main, c))
        return AM_ENOMEM;
    c->thread_started = true;
    return 0;
}

int avl_mqtt_start(struct avl *a, const char *host, int port, const char *client_id, int nclients,
                   struct avl_mqtt **out)
{
    static bool registered;
    if (!registered) {
        registered = true;
        am_counter_register(&c_msgs);
        am_counter_register(&c_bad);
        am_counter_register(&c_connects);
        am_counter_register(&c_failed);
        mosquitto_lib_init();
    }
    *out = NULL;
    if (nclients < 1 || nclients > AVL_MQTT_MAX_CLIENTS || !client_id || !*client_id)
        return AM_EINVAL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int grc = getaddrinfo(host, NULL, &hints, &ai);
    if (grc) {
        am_error("avl", "cannot use the mqtt broker", "host=%s port=%d why=\"%s\"", host, port,
                 gai_strerror(grc));
        return AM_EIO;
    }
    freeaddrinfo(ai);
    struct avl_mqtt *q = calloc(1, sizeof(*q));
    if (!q)
        return AM_ENOMEM;
    for (int i = 0; i < AVL_MQTT_MAX_CLIENTS; i++)
        q->clients[i].wake = -1;
    q->avl = a;
    am_strlcpy(q->host, host, sizeof(q->host));
    q->port = port;
    q->nclients = nclients;
    /* The share group: the client id, in the characters a topic level may hold. */
    char group[64];
    size_t n = am_strlcpy(group, client_id, sizeof(group));
    for (size_t i = 0; i < n && i < sizeof(group) - 1; i++)
        if (group[i] == '/' || group[i] == '+' || group[i] == '#')
            group[i] = '_';
    snprintf(q->share_topic, sizeof(q->share_topic), "$share/%s/" TELEMETRY_TOPIC, group);
    int rc = AM_ENOMEM;
    /* A persistent session: the broker keeps what comes while amaned is away. */
    if (mosquitto_property_add_int32(&q->connect_props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                     UINT32_MAX) != MOSQ_ERR_SUCCESS)
        goto err;
    for (int i = 0; i < AVL_MQTT_MAX_CLIENTS; i++) {
        if ((rc = client_init(q, i, client_id, i >= nclients)))
            goto err;
        q->nall = i + 1;
    }
    *out = q;
    return 0;
err:
    am_error("avl", "cannot start the mqtt clients", "why=\"%s\"", am_strerror(rc));
    avl_mqtt_stop(q);
    return rc;
}

int avl_mqtt_command(struct avl_mqtt *q, const char *device, const char *json_text)
{
    if (!q || !avl_device_id_ok(device))
        return AM_EINVAL;
    char topic[128];
    snprintf(topic, sizeof(topic), TOPIC_PREFIX "%s/commands", device);
    struct mqtt_client *c = &q->clients[0];
    int rc = mosquitto_publish(c->mosq, NULL, topic, (int)strlen(json_text), json_text, 1, false);
    if (rc == MOSQ_ERR_SUCCESS)
        wake(c); /* its thread writes it */
    return rc == MOSQ_ERR_SUCCESS ? 0 : rc == MOSQ_ERR_NO_CONN ? AM_ECLOSED : AM_EIO;
}

/*
 * The command an event sends to the unit's vehicles, or NULL: assignments,
 * and the room's messages and pings. "seq" (the event's) lets a vehicle
 * drop a command QoS 1 delivered twice.
 */
static json_t *command_of(const struct am_event *ev, const json_t *d, const char **unit)
{
    *unit = json_string_value(json_object_get(d, "unit"));
    if (!*unit)
        return NULL;
    if (!strcmp(ev->type, "cad.unit.assigned")) {
        const char *incident = json_string_value(json_object_get(d, "incident"));
        return incident
                   ? json_pack("{ss ss ss sb sI}", "type", "assignment", "unit", *unit, "incident",
                               incident, "primary", json_is_true(json_object_get(d, "primary")),
                               "seq", (json_int_t)ev->seq)
                   : NULL;
    }
    if (!strcmp(ev->type, "cad.unit.message")) {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const char *text = json_string_value(json_object_get(d, "text"));
        const char *from = json_string_value(json_object_get(d, "from"));
        json_int_t id = json_integer_value(json_object_get(d, "id"));
        return kind && text && from
                   ? json_pack("{ss ss sI ss ss sI}", "type", kind, "unit", *unit, "id", id, "text",
                               text, "from", from, "seq", (json_int_t)ev->seq)
                   : NULL;
    }
    return NULL;
}

void avl_mqtt_on_events(void *arg, struct am_event *const *evs, size_t n)
{
    struct avl_mqtt *q = arg;
    for (size_t i = 0; q && i < n; i++) {
        const struct am_event *ev = evs[i];
        if (strcmp(ev->type, "cad.unit.assigned") != 0 && strcmp(ev->type, "cad.unit.message") != 0)
            continue;
        json_t *d = json_loadb(ev->data, ev->data_len, 0, NULL);
        const char *unit = NULL;
        json_t *cmd = command_of(ev, d, &unit);
        char devices[8][AVL_DEVICE_SZ];
        size_t nd = cmd ? avl_devices_of(q->avl, unit, AVL_MQTT, devices, 8) : 0;
        char *text = nd ? json_dumps(cmd, JSON_COMPACT) : NULL;
        for (size_t k = 0; text && k < nd; k++)
            if (avl_mqtt_command(q, devices[k], text))
                am_warn("avl", "cannot send a command to a vehicle", "device=%s type=%s",
                        devices[k], ev->type);
        free(text);
        json_decref(cmd);
        json_decref(d);
    }
}

void avl_mqtt_stop(struct avl_mqtt *q)
{
    if (!q)
        return;
    /* Each thread lets its last round become durable, acknowledges it and says goodbye. */
    atomic_store(&q->stop, true);
    for (int i = 0; i < q->nall; i++) {
        struct mqtt_client *c = &q->clients[i];
        if (c->thread_started) {
            wake(c);
            pthread_join(c->thread, NULL);
        }
    }
    for (int i = 0; i < AVL_MQTT_MAX_CLIENTS; i++) {
        struct mqtt_client *c = &q->clients[i];
        if (c->mosq)
            mosquitto_destroy(c->mosq);
        if (c->wake >= 0)
            close(c->wake);
    }
    mosquitto_property_free_all(&q->connect_props);
    free(q);
}
