/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mqtt.c - connected vehicles through an MQTT broker (mosquitto): amaned
 * subscribes to amane/v1/units/+/telemetry at QoS 1 and takes each message
 * as a fix of the device named in the topic (a vehicle bound with protocol
 * "mqtt"); it publishes commands to amane/v1/units/<device>/commands.
 *
 * libmosquitto runs its own network thread. The session is persistent
 * (clean_session false, a fixed client id), so the broker keeps QoS 1
 * messages while amaned is away; the client reconnects by itself after a
 * broker restart (1 s, backing off to 10 s) and subscribes again on every
 * connection. Redelivered messages add nothing: the trail keeps one
 * position per device and time. libmosquitto acknowledges a QoS 1 message
 * when the callback returns, before its batch is durable: a crash of
 * amaned in that window (200 ms) loses it (docs/avl.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "avl/avl.h"
#include "core/core.h"

#define TOPIC_PREFIX "amane/v1/units/"

struct avl_mqtt {
    struct avl *avl;
    struct mosquitto *mosq;
    char host[256];
    int port;
    bool started;
};

static struct am_counter c_msgs = {"amane_avl_mqtt_messages_total", "MQTT telemetry messages", NULL,
                                   0, NULL};
static struct am_counter c_bad = {"amane_avl_mqtt_refused_total",
                                  "MQTT telemetry messages refused (bad topic, payload, device)",
                                  NULL, 0, NULL};
static struct am_counter c_connects = {"amane_avl_mqtt_connects_total",
                                       "Connections to the MQTT broker", NULL, 0, NULL};

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)obj;
    if (rc != 0) {
        am_warn("avl", "mqtt connection refused", "rc=%d why=\"%s\"", rc,
                mosquitto_connack_string(rc));
        return;
    }
    am_counter_add(&c_connects, 1);
    am_info("avl", "mqtt connected", NULL);
    int src = mosquitto_subscribe(mosq, NULL, TOPIC_PREFIX "+/telemetry", 1);
    if (src != MOSQ_ERR_SUCCESS)
        am_warn("avl", "mqtt subscribe failed", "why=\"%s\"", mosquitto_strerror(src));
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    (void)obj;
    if (rc != 0)
        am_warn("avl", "mqtt connection lost; reconnecting", NULL);
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

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    (void)mosq;
    struct avl_mqtt *q = obj;
    am_counter_add(&c_msgs, 1);
    char dev[AVL_DEVICE_SZ], why[200] = "";
    struct avl_fix fix;
    if (!m->topic || !topic_device(m->topic, dev, sizeof(dev)) || m->payloadlen < 0) {
        am_counter_add(&c_bad, 1);
        return;
    }
    int rc = avl_mqtt_decode(dev, m->payload, (size_t)m->payloadlen, am_now_us(), &fix, why,
                             sizeof(why));
    if (rc == 0)
        rc = avl_ingest(q->avl, AVL_MQTT, &fix, NULL, NULL);
    if (rc) {
        am_counter_add(&c_bad, 1);
        am_debug("avl", "mqtt message refused", "device=%s rc=%d why=\"%s\"", dev, rc, why);
    }
}

int avl_mqtt_start(struct avl *a, const char *host, int port, const char *client_id,
                   struct avl_mqtt **out)
{
    static bool registered;
    if (!registered) {
        registered = true;
        am_counter_register(&c_msgs);
        am_counter_register(&c_bad);
        am_counter_register(&c_connects);
        mosquitto_lib_init();
    }
    *out = NULL;
    struct avl_mqtt *q = calloc(1, sizeof(*q));
    if (!q)
        return AM_ENOMEM;
    q->avl = a;
    am_strlcpy(q->host, host, sizeof(q->host));
    q->port = port;
    int rc = AM_ENOMEM;
    q->mosq = mosquitto_new(client_id, false, q);
    if (!q->mosq)
        goto err;
    mosquitto_connect_callback_set(q->mosq, on_connect);
    mosquitto_disconnect_callback_set(q->mosq, on_disconnect);
    mosquitto_message_callback_set(q->mosq, on_message);
    mosquitto_reconnect_delay_set(q->mosq, 1, 10, true);
    rc = AM_EIO;
    /* Asynchronous: a broker that is down at start is reached when it comes up. */
    int mrc = mosquitto_connect_async(q->mosq, q->host, q->port, 30);
    if (mrc != MOSQ_ERR_SUCCESS && mrc != MOSQ_ERR_ERRNO) {
        am_error("avl", "cannot use the mqtt broker", "host=%s port=%d why=\"%s\"", q->host,
                 q->port, mosquitto_strerror(mrc));
        goto err;
    }
    if (mosquitto_loop_start(q->mosq) != MOSQ_ERR_SUCCESS)
        goto err;
    q->started = true;
    *out = q;
    return 0;
err:
    avl_mqtt_stop(q);
    return rc;
}

int avl_mqtt_command(struct avl_mqtt *q, const char *device, const char *json_text)
{
    if (!q || !avl_device_id_ok(device))
        return AM_EINVAL;
    char topic[128];
    snprintf(topic, sizeof(topic), TOPIC_PREFIX "%s/commands", device);
    int rc = mosquitto_publish(q->mosq, NULL, topic, (int)strlen(json_text), json_text, 1, false);
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
    if (q->mosq) {
        mosquitto_disconnect(q->mosq);
        if (q->started)
            mosquitto_loop_stop(q->mosq, true);
        mosquitto_destroy(q->mosq);
    }
    free(q);
}
