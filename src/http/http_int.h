/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http_int.h - private to src/http: the server, routes, jobs handed between
 * the loop and the workers, and the stream's state.
 */
#ifndef AM_HTTP_INT_H
#define AM_HTTP_INT_H

#include <pthread.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "http/http.h"

#define HTTP_MAX_ROUTES 128

struct route {
    enum http_method method;
    char pattern[128];
    unsigned roles, flags;
    http_handler fn;
    void *arg;
};

/* Work done elsewhere that the loop finishes: posted from any thread. */
struct loop_task {
    void (*fn)(struct http_server *s, void *arg);
    void *arg;
    struct loop_task *next;
};

enum job_state { JOB_COLLECTING, JOB_RUNNING, JOB_READY, JOB_WRITING };

struct http_job {
    struct http_server *srv;
    struct lws *wsi;
    enum job_state state;
    bool cancelled;            /* the connection closed while a worker had the job */
    const struct route *route; /* NULL: answered on the loop (404, 405, 413) */
    struct http_req req;
    struct http_resp resp;
    struct am_buf body;
    int64_t start_us;
    size_t sent;
    bool headers_sent;
    char method_name[8];
    int async_refs; /* see http_job_finished */
};

struct stream_client;

struct stream {
    pthread_mutex_t mu;
    struct am_event **ring; /* ring[(seq) % cap] holds event seq when seq in [first, last] */
    size_t cap;
    int64_t first, last;           /* seq range held; first > last when empty */
    struct stream_client *clients; /* loop thread only */
    int nclients;
    http_live_fn live; /* live state provider, or NULL */
    void *live_arg;
    int64_t live_interval_us;
    int64_t live_changes; /* atomic: bumped by http_stream_live_changed */
};

/* Per-connection state, as libwebsockets' per-session data. */
struct conn {
    struct http_job *job;
    struct stream_client *client;
};

/* Another port whose every request goes to one handler (http_listen). */
#define HTTP_MAX_LISTENERS 4
struct http_listener {
    struct http_server *srv;
    char name[32];
    struct route route;             /* an HTTP listener's one handler */
    const struct http_raw_ops *raw; /* or a raw TCP listener's */
    void *raw_arg;
    struct lws_vhost *vh;
};

struct http_server {
    struct lws_context *ctx;
    struct http_listener listeners[HTTP_MAX_LISTENERS];
    int nlisteners;
    struct http_opts o;
    char listen[64];
    char web_root[512];
    char tls_cert[512], tls_key[512];
    struct am_pool *pool;
    struct route routes[HTTP_MAX_ROUTES];
    int nroutes;
    int port;
    volatile int stopping;
    pthread_mutex_t tmu;
    struct loop_task *tasks_head, *tasks_tail;
    struct stream stream;
};

/* The job a response belongs to. */
#define http_job_of(resp) ((struct http_job *)((char *)(resp)-offsetof(struct http_job, resp)))
/*
 * A job whose handler answers later (resp.pending) is shared by the worker and the completion
 * (async_refs = 2); each calls http_job_finished when done with it, and the last one hands it
 * back to the loop. Thread-safe.
 */
void http_job_finished(struct http_job *job);
void http_job_to_loop(struct http_job *job);

/* Runs fn(s, arg) on the loop thread soon. Thread-safe. */
int http_post_task(struct http_server *s, void (*fn)(struct http_server *, void *), void *arg);

/* Router: finds the route for a method and path; fills params. */
enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };
enum route_match http_route_find(struct http_server *s, enum http_method m, const char *path,
                                 struct http_req *req, const struct route **out);

/* "GET", "POST", ...; "?" for another method. */
const char *http_method_name(enum http_method m);

/* The methods routed for a path, as an Allow header value ("GET, POST"). */
void http_route_allowed(struct http_server *s, const char *path, char *out, size_t outsz);

/* Static files under web_root, run on a worker. */
void http_static_serve(struct http_req *req, struct http_resp *resp, void *arg);

/* Stream: WebSocket life cycle, called from the protocol callback. */
int stream_init(struct http_server *s);
void stream_release(struct http_server *s);
int stream_established(struct http_server *s, struct lws *wsi, struct conn *c);
int stream_timer(struct http_server *s, struct lws *wsi, struct conn *c);
int stream_writeable(struct http_server *s, struct lws *wsi, struct conn *c);
void stream_closed(struct http_server *s, struct conn *c);
/* Called on the loop when events were published: wakes clients with work. */
void stream_wake(struct http_server *s);

void http_metrics_init(void);
void http_count_status(int status);
void http_observe_latency(int64_t us);

#endif
