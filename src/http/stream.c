/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * stream.c - the WebSocket `/api/v1/stream`: every committed event, in
 * sequence order, filtered by what the client's role may see.
 *
 * Committed events land in a ring that the store's writer fills (under a
 * mutex held for a copy). Each client has a cursor: the last sequence number
 * it was given or skipped. A client behind the ring (a reconnect with an old
 * `since`, or a slow reader) is fed from the event log by a worker, a
 * thousand events at a time, then catches up from the ring. So a client that
 * reconnects with `since=` misses nothing, whatever happened meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "store/store.h"

#define LOAD_BATCH 1000

struct stream_client {
    struct http_server *s;
    struct lws *wsi; /* NULL once the connection closed */
    struct stream_client *next, *prev;
    int inflight; /* worker jobs that still point here */
    bool authed, hello_sent, loading;
    int auth_rc;
    char bearer[128];
    int64_t since;
    bool has_since;
    int64_t head_at_auth;
    struct am_principal who;
    int64_t cursor;
    struct am_event **backlog;
    size_t nback, posback;
    const char *close_why;
    int64_t live_gen;     /* the live state's generation last sent */
    int64_t live_sent_us; /* when (monotonic) */
    int64_t live_seen;    /* stream.live_changes when last looked at */
};

static struct am_counter ws_sent = {"amane_stream_events_sent_total",
                                    "Events sent to stream clients", NULL, 0, NULL};
static double clients_gauge(void *arg)
{
    return ((struct http_server *)arg)->stream.nclients;
}

int stream_init(struct http_server *s)
{
    struct stream *st = &s->stream;
    pthread_mutex_init(&st->mu, NULL);
    st->cap = (size_t)(s->o.stream_ring > 16 ? s->o.stream_ring : 16);
    st->ring = calloc(st->cap, sizeof(*st->ring));
    if (!st->ring)
        return AM_ENOMEM;
    int64_t head = s->o.store ? store_head_seq(s->o.store) : 0;
    st->first = head + 1;
    st->last = head;
    static bool registered;
    if (!registered) {
        registered = true;
        am_counter_register(&ws_sent);
        am_gauge_register("amane_stream_clients", "Connected stream clients", clients_gauge, s);
    }
    return 0;
}

static void backlog_free(struct stream_client *cl)
{
    for (size_t i = cl->posback; i < cl->nback; i++)
        am_event_unref(cl->backlog[i]);
    free(cl->backlog);
    cl->backlog = NULL;
    cl->nback = cl->posback = 0;
}

static void client_free(struct stream_client *cl)
{
    backlog_free(cl);
    free(cl);
}

void stream_release(struct http_server *s)
{
    struct stream *st = &s->stream;
    if (st->ring) {
        for (size_t i = 0; i < st->cap; i++)
            am_event_unref(st->ring[i]);
        free(st->ring);
    }
    pthread_mutex_destroy(&st->mu);
}

void http_stream_publish(void *server, struct am_event *const *evs, size_t n)
{
    struct http_server *s = server;
    struct stream *st = &s->stream;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < n; i++) {
        struct am_event *ev = evs[i];
        size_t slot = (size_t)ev->seq % st->cap;
        if (ev->seq != st->last + 1) {
            /* Not contiguous (should not happen): restart the ring here. */
            for (size_t k = 0; k < st->cap; k++) {
                am_event_unref(st->ring[k]);
                st->ring[k] = NULL;
            }
            st->first = ev->seq;
        }
        am_event_unref(st->ring[slot]);
        am_event_ref(ev);
        st->ring[slot] = ev;
        st->last = ev->seq;
        if (st->last - st->first + 1 > (int64_t)st->cap)
            st->first = st->last - (int64_t)st->cap + 1;
    }
    pthread_mutex_unlock(&st->mu);
    if (s->ctx)
        lws_cancel_service(s->ctx);
}

static void unlink_client(struct http_server *s, struct stream_client *cl)
{
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        s->stream.clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->next = cl->prev = NULL;
    s->stream.nclients--;
}

/* ------------------------------------------------------------- authentication */

static void auth_done(struct http_server *s, void *arg)
{
    struct stream_client *cl = arg;
    cl->inflight--;
    if (!cl->wsi) {
        if (!cl->inflight)
            client_free(cl);
        return;
    }
    if (cl->auth_rc) {
        cl->close_why = cl->auth_rc == AM_EAUTH ? "unauthorized" : "unavailable";
    } else {
        cl->authed = true;
        int64_t head = cl->head_at_auth;
        cl->cursor = cl->has_since ? (cl->since < head ? cl->since : head) : head;
        if (cl->cursor < 0)
            cl->cursor = 0;
    }
    lws_callback_on_writable(cl->wsi);
}

static void auth_job(void *arg)
{
    struct stream_client *cl = arg;
    struct http_server *s = cl->s;
    cl->auth_rc =
        cl->bearer[0] ? s->o.authenticate(s->o.authn_arg, cl->bearer, &cl->who) : AM_EAUTH;
    cl->head_at_auth = s->o.store ? store_head_seq(s->o.store) : s->stream.last;
    if (http_post_task(s, auth_done, cl))
        AM_BUG("cannot post to the loop");
}

int stream_established(struct http_server *s, struct lws *wsi, struct conn *c)
{
    struct stream_client *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return -1;
    cl->s = s;
    cl->wsi = wsi;
    char buf[256];
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
        strncasecmp(buf, "Bearer ", 7) == 0)
        am_strlcpy(cl->bearer, buf + 7, sizeof(cl->bearer));
    const char *v = lws_get_urlarg_by_name(wsi, "access_token=", buf, sizeof(buf));
    if (!cl->bearer[0] && v)
        am_strlcpy(cl->bearer, v, sizeof(cl->bearer));
    v = lws_get_urlarg_by_name(wsi, "since=", buf, sizeof(buf));
    if (v) {
        if (am_parse_i64(v, 0, INT64_MAX, &cl->since)) {
            cl->close_why = "bad since";
        } else {
            cl->has_since = true;
        }
    }
    cl->next = s->stream.clients;
    if (cl->next)
        cl->next->prev = cl;
    s->stream.clients = cl;
    s->stream.nclients++;
    c->client = cl;
    if (cl->close_why) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    cl->inflight++;
    if (am_pool_submit(s->pool, auth_job, cl)) {
        cl->inflight--;
        cl->close_why = "unavailable";
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* ------------------------------------------------------------- backlog */

struct load {
    struct stream_client *cl;
    int64_t from;
    struct am_event **evs;
    size_t n, cap;
    int rc;
};

static int load_one(struct am_event *ev, void *arg)
{
    struct load *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct am_event **p = realloc(l->evs, cap * sizeof(*p));
        if (!p)
            return AM_ENOMEM;
        l->evs = p;
        l->cap = cap;
    }
    am_event_ref(ev);
    l->evs[l->n++] = ev;
    return 0;
}

static void load_done(struct http_server *s, void *arg)
{
    struct load *l = arg;
    struct stream_client *cl = l->cl;
    cl->inflight--;
    cl->loading = false;
    if (!cl->wsi || l->rc) {
        for (size_t i = 0; i < l->n; i++)
            am_event_unref(l->evs[i]);
        free(l->evs);
        if (cl->wsi)
            cl->close_why = "unavailable";
    } else {
        backlog_free(cl);
        cl->backlog = l->evs;
        cl->nback = l->n;
        cl->posback = 0;
    }
    if (cl->wsi)
        lws_callback_on_writable(cl->wsi);
    else if (!cl->inflight)
        client_free(cl);
    free(l);
}

static void load_job(void *arg)
{
    struct load *l = arg;
    struct http_server *s = l->cl->s;
    l->rc = store_events_since(s->o.store, l->from, LOAD_BATCH, load_one, l);
    if (http_post_task(s, load_done, l))
        AM_BUG("cannot post to the loop");
}

static void start_load(struct http_server *s, struct stream_client *cl)
{
    struct load *l = calloc(1, sizeof(*l));
    if (!l || !s->o.store) {
        free(l);
        cl->close_why = "unavailable";
        lws_callback_on_writable(cl->wsi);
        return;
    }
    l->cl = cl;
    l->from = cl->cursor;
    cl->loading = true;
    cl->inflight++;
    if (am_pool_submit(s->pool, load_job, l)) {
        cl->inflight--;
        cl->loading = false;
        free(l);
        cl->close_why = "unavailable";
        lws_callback_on_writable(cl->wsi);
    }
}

/* ------------------------------------------------------------- writing */

static int send_text(struct lws *wsi, struct am_buf *b)
{
    /* libwebsockets needs LWS_PRE bytes of headroom before the payload. */
    unsigned char *frame = malloc(LWS_PRE + b->len);
    if (!frame)
        return -1;
    memcpy(frame + LWS_PRE, b->data, b->len);
    int n = lws_write(wsi, frame + LWS_PRE, b->len, LWS_WRITE_TEXT);
    free(frame);
    return n < (int)b->len ? -1 : 0;
}

static int render(const struct am_event *ev, struct am_buf *b)
{
    char ts[AM_TIME_BUFSZ];
    json_t *actor = json_string(ev->actor);
    char *a = actor ? json_dumps(actor, JSON_ENCODE_ANY) : NULL;
    json_decref(actor);
    if (!a)
        return AM_ENOMEM;
    int rc = am_buf_printf(b, "{\"seq\":%lld,\"ts\":\"%s\",\"type\":\"%s\",\"actor\":%s,\"data\":",
                           (long long)ev->seq, am_time_fmt(ev->ts_us, ts, sizeof(ts)), ev->type, a);
    free(a);
    if (!rc)
        rc = am_buf_append(b, ev->data, ev->data_len);
    if (!rc)
        rc = am_buf_append(b, "}", 1);
    return rc;
}

/* The next event after the cursor, with a reference; NULL if none yet or if a load is needed. */
static struct am_event *next_event(struct http_server *s, struct stream_client *cl, bool *need_load,
                                   bool *more)
{
    *need_load = false;
    *more = false;
    if (cl->posback < cl->nback) {
        struct am_event *ev = cl->backlog[cl->posback];
        cl->backlog[cl->posback++] = NULL;
        *more = true;
        return ev;
    }
    if (cl->backlog)
        backlog_free(cl);
    struct stream *st = &s->stream;
    struct am_event *ev = NULL;
    pthread_mutex_lock(&st->mu);
    if (cl->cursor < st->last) {
        if (cl->cursor + 1 >= st->first) {
            ev = st->ring[(size_t)(cl->cursor + 1) % st->cap];
            am_event_ref(ev);
            *more = cl->cursor + 1 < st->last;
        } else {
            *need_load = true;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return ev;
}

void http_stream_live(struct http_server *s, http_live_fn fn, void *arg, int min_interval_ms)
{
    s->stream.live = fn;
    s->stream.live_arg = arg;
    s->stream.live_interval_us = (int64_t)(min_interval_ms > 0 ? min_interval_ms : 500) * 1000;
}

void http_stream_live_changed(struct http_server *s)
{
    __atomic_add_fetch(&s->stream.live_changes, 1, __ATOMIC_RELEASE);
    if (s->ctx)
        lws_cancel_service(s->ctx);
}

/*
 * Sends the live state changed since the client's last live message, if
 * the interval allows; else arms a timer for when it does. 1 if a frame
 * was sent, 0 if not, -1 on error.
 */
static int send_live(struct http_server *s, struct lws *wsi, struct stream_client *cl)
{
    struct stream *st = &s->stream;
    if (!st->live)
        return 0;
    int64_t now = am_mono_us(), wait = cl->live_sent_us + st->live_interval_us - now;
    if (wait > 0) {
        lws_set_timer_usecs(wsi, wait);
        return 0;
    }
    cl->live_seen = __atomic_load_n(&st->live_changes, __ATOMIC_ACQUIRE);
    struct am_buf b;
    am_buf_init(&b, 0);
    int64_t gen = st->live(st->live_arg, cl->live_gen, cl->who.role, &b);
    int rc = 0;
    if (b.len) {
        rc = send_text(wsi, &b) ? -1 : 1;
        cl->live_sent_us = now;
    }
    cl->live_gen = gen;
    am_buf_release(&b);
    return rc;
}

int stream_writeable(struct http_server *s, struct lws *wsi, struct conn *c)
{
    struct stream_client *cl = c->client;
    if (!cl)
        return 0;
    if (cl->close_why) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)cl->close_why,
                         strlen(cl->close_why));
        return -1;
    }
    if (!cl->authed || cl->loading)
        return 0;
    struct am_buf b;
    am_buf_init(&b, 0);
    int rc = 0;
    if (!cl->hello_sent) {
        rc = am_buf_printf(&b,
                           "{\"type\":\"stream.hello\",\"seq\":%lld,\"head\":%lld,"
                           "\"user\":\"%s\",\"role\":\"%s\"}",
                           (long long)cl->cursor, (long long)cl->head_at_auth, cl->who.username,
                           am_role_name(cl->who.role));
        if (!rc)
            rc = send_text(wsi, &b);
        cl->hello_sent = true;
        am_buf_release(&b);
        lws_callback_on_writable(wsi);
        return rc;
    }
    /* Skip what this role may not see, but send at most one frame per call. */
    int skipped;
    for (skipped = 0; skipped < 256; skipped++) {
        bool need_load, more;
        struct am_event *ev = next_event(s, cl, &need_load, &more);
        if (need_load) {
            start_load(s, cl);
            break;
        }
        if (!ev)
            break;
        cl->cursor = ev->seq;
        bool visible = !s->o.visible || s->o.visible(&cl->who, ev);
        if (visible) {
            rc = render(ev, &b);
            if (!rc)
                rc = send_text(wsi, &b);
            if (!rc)
                am_counter_add(&ws_sent, 1);
        }
        am_event_unref(ev);
        if (visible || !more) {
            if (more || rc)
                lws_callback_on_writable(wsi);
            break;
        }
    }
    if (skipped == 256)
        lws_callback_on_writable(wsi);
    am_buf_release(&b);
    if (rc)
        return -1;
    /* Events first; the live state when nothing else waits. */
    if (!lws_send_pipe_choked(wsi)) {
        bool idle;
        struct stream *st = &s->stream;
        pthread_mutex_lock(&st->mu);
        idle = cl->cursor >= st->last && cl->posback >= cl->nback;
        pthread_mutex_unlock(&st->mu);
        if (idle && send_live(s, wsi, cl) < 0)
            return -1;
    }
    return 0;
}

int stream_timer(struct http_server *s, struct lws *wsi, struct conn *c)
{
    (void)s;
    if (c && c->client && c->client->authed)
        lws_callback_on_writable(wsi);
    return 0;
}

void stream_closed(struct http_server *s, struct conn *c)
{
    struct stream_client *cl = c->client;
    if (!cl)
        return;
    c->client = NULL;
    unlink_client(s, cl);
    cl->wsi = NULL;
    if (!cl->inflight)
        client_free(cl);
}

void stream_wake(struct http_server *s)
{
    struct stream *st = &s->stream;
    pthread_mutex_lock(&st->mu);
    int64_t last = st->last;
    pthread_mutex_unlock(&st->mu);
    for (struct stream_client *cl = st->clients; cl; cl = cl->next) {
        if (cl->wsi && cl->authed && !cl->loading &&
            (cl->cursor < last || cl->posback < cl->nback ||
             (st->live && cl->live_seen != __atomic_load_n(&st->live_changes, __ATOMIC_ACQUIRE))))
            lws_callback_on_writable(cl->wsi);
    }
}
