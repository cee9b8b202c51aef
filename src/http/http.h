/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http.h - the HTTP and WebSocket front of amaned, on libwebsockets.
 *
 * One libwebsockets service thread runs the network loop and never blocks.
 * A request is matched to a route on that thread; its body is collected with
 * a size limit; then authentication, the role check, JSON parsing and the
 * handler run on a worker thread. The handler fills a response, the loop is
 * woken with lws_cancel_service() and writes it. Errors are problem+json
 * (RFC 9457) with a stable `type`.
 *
 * Every route declares the roles that may call it. There is no implicit
 * access: a route without roles is refused unless it is marked public.
 *
 * The stream (`/api/v1/stream`) is a WebSocket that sends each committed
 * event, filtered per role, as a JSON text message with its sequence number;
 * `?since=SEQ` replays what came after SEQ first.
 */
#ifndef AM_HTTP_H
#define AM_HTTP_H

#include <stdint.h>

#include "core/core.h"

struct http_server;
struct store;

enum http_method {
    HTTP_GET,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_METHOD_OTHER
};

#define HTTP_MAX_PARAMS   4
#define HTTP_MAX_ARGS     16
#define HTTP_PROBLEM_BASE "urn:amane:problem:"

struct http_req {
    enum http_method method;
    char path[512];                   /* decoded path, no query */
    char param[HTTP_MAX_PARAMS][128]; /* values of {name} segments, in pattern order */
    int nparams;
    char *args[HTTP_MAX_ARGS]; /* query arguments as "name=value", decoded */
    int nargs;
    const char *body; /* raw body (NUL-terminated), may be NULL */
    size_t body_len;
    json_t *json; /* parsed body for routes that take JSON, else NULL */
    char request_id[65];
    char idem_key[130];      /* Idempotency-Key header, "" if absent */
    bool idem_bad;           /* an Idempotency-Key was sent but is too long to read */
    char bearer[128];        /* token from Authorization: Bearer, or access_token arg */
    struct am_principal who; /* valid when authenticated */
    bool authenticated;
    char remote[64];        /* peer address */
    char content_type[128]; /* the Content-Type header, "" if absent or too long */
    char if_none_match[96]; /* the If-None-Match header (ETags), "" if absent or too long */
};

/*
 * API answers are sent with "cache-control: no-store" unless the handler
 * puts its own cache-control line in `headers` (with an etag, for data that
 * changes only with a restart: the map's roads and boundaries).
 */
struct http_resp {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd, owned by the server once set */
    size_t body_len;
    char headers[512]; /* extra "Name: value\r\n" lines */
    bool close;        /* close the connection after this response */
    bool pending;      /* answered later, by http_run_command's completion */
};

typedef void (*http_handler)(struct http_req *req, struct http_resp *resp, void *arg);
typedef int (*http_authn_fn)(void *arg, const char *token, struct am_principal *out);
typedef bool (*http_visible_fn)(const struct am_principal *p, const struct am_event *ev);

/* Route flags. */
#define HTTP_PUBLIC    0x1u /* no authentication */
#define HTTP_JSON_BODY 0x2u /* body must be a JSON object; parsed into req->json */

struct http_opts {
    const char *listen;
    int port; /* 0: any free port (see http_port) */
    int workers;
    size_t body_limit;
    const char *tls_cert, *tls_key; /* both set: HTTPS and WSS only */
    const char *web_root;           /* static files; NULL: none */
    int stream_ring;                /* events kept in memory for the stream */
    struct store *store;            /* for stream replay beyond the ring */
    http_authn_fn authenticate;
    void *authn_arg;
    http_visible_fn visible; /* stream filter per principal */
};

/* Creates the server and binds its port. */
int http_server_new(struct http_server **out, const struct http_opts *o);
/* The port bound (useful with port 0). */
int http_port(struct http_server *s);
/*
 * Adds a route before the server runs. `pattern` is a path whose segments
 * may be `{name}` (one segment each). `roles` is a mask of AM_ROLE_BIT().
 */
int http_route(struct http_server *s, enum http_method m, const char *pattern, unsigned roles,
               unsigned flags, http_handler fn, void *arg);
/*
 * Listens on another port for a device protocol spoken over HTTP (OsmAnd):
 * every GET or POST request there, whatever its path, goes to `fn` without
 * authentication (the handler decides which device may speak); other
 * methods get 405. Call after http_server_new(), before http_run(). `name`
 * names the listener in logs; *bound (may be NULL) gets the port (useful
 * with port 0). Returns 0, AM_ETOOBIG past 4 listeners, AM_EIO if the port
 * cannot be bound.
 */
int http_listen(struct http_server *s, const char *name, int port, http_handler fn, void *arg,
                int *bound);

/*
 * A TCP connection of a device protocol spoken over raw TCP (Teltonika).
 * The loop owns it while it is open; anyone who keeps it past a callback
 * (to answer after a batch is durable) holds it with http_raw_hold() and
 * lets go with http_raw_release(); it is freed when the last lets go.
 */
struct http_raw;

struct http_raw_ops {
    /* A connection opened (on the loop): its state, or NULL to refuse it. */
    void *(*open)(void *arg, struct http_raw *conn, const char *remote);
    /* Bytes arrived (on the loop, must not block): 0, or -1 to close the connection. */
    int (*data)(void *arg, void *state, const uint8_t *buf, size_t len);
    /* The connection closed (on the loop): free the state. */
    void (*close)(void *arg, void *state);
};

/*
 * Listens on `port` for raw TCP connections of a device protocol, handled
 * by `ops`. As http_listen() otherwise.
 */
int http_listen_raw(struct http_server *s, const char *name, int port,
                    const struct http_raw_ops *ops, void *arg, int *bound);
/* Queues bytes to send, from any thread. AM_ECLOSED once the connection closed. */
int http_raw_send(struct http_raw *c, const void *buf, size_t len);
/* Closes the connection after what is queued is sent, from any thread. */
void http_raw_close(struct http_raw *c);
void http_raw_hold(struct http_raw *c);
void http_raw_release(struct http_raw *c);

/* Runs the loop on the calling thread until http_stop(). */
int http_run(struct http_server *s);
/* Thread- and signal-safe: asks the loop to finish. */
void http_stop(struct http_server *s);
/* After http_run returned: waits for the workers to finish their jobs. */
void http_drain(struct http_server *s);
void http_server_free(struct http_server *s);

/* Calls fn for each route in order: method name, pattern, roles mask, flags. */
void http_route_each(struct http_server *s,
                     void (*fn)(void *arg, const char *method, const char *pattern, unsigned roles,
                                unsigned flags),
                     void *arg);

/* Adds the catch-all route serving web_root's files (add it last). */
int http_route_static(struct http_server *s);

/*
 * Live state on the stream besides the events (the units' positions): a
 * provider that renders, for a client of role `role`, the entries changed
 * after generation `since` as one JSON message into `out` (nothing if none
 * or if the role may not see them), and returns its current generation.
 * The stream asks it at most every `min_interval_ms` per client, so a
 * console gets at most so many updates a second whatever the devices send.
 * Called on the loop thread: it must be quick and thread-safe.
 */
typedef int64_t (*http_live_fn)(void *arg, int64_t since, enum am_role role, struct am_buf *out);
/* Sets the provider (before http_run) and how often it may be asked. */
void http_stream_live(struct http_server *s, http_live_fn fn, void *arg, int min_interval_ms);
/* Says that the live state changed (any thread): clients are offered it. */
void http_stream_live_changed(struct http_server *s);

/* Bus subscriber: hands committed events to the stream. Fits bus_fn. */
void http_stream_publish(void *server, struct am_event *const *evs, size_t n);

/* ---------------------------------------------------------- handler helpers */

/* Sets a JSON response; steals `v`. */
void http_json(struct http_resp *r, int status, json_t *v);
/* Sets a response body from text the server then owns. */
void http_text(struct http_resp *r, int status, const char *content_type, char *body);
/*
 * Sets an application/problem+json response: `slug` makes the stable type
 * HTTP_PROBLEM_BASE slug; `detail` is a printf format (may be NULL).
 */
void http_problem(struct http_resp *r, const struct http_req *req, int status, const char *slug,
                  const char *title, const char *detail, ...) __attribute__((format(printf, 6, 7)));
/* Maps an AM_E* code to a problem with a fitting status. */
void http_problem_err(struct http_resp *r, const struct http_req *req, int err, const char *detail);
/*
 * Unpacks req->json with json_unpack_ex in strict mode (unknown fields are
 * refused). On failure fills a 422 problem naming the field and returns
 * AM_EINVAL.
 */
int http_unpack(struct http_req *req, struct http_resp *resp, const char *fmt, ...);
/* A query argument's value, or NULL. */
const char *http_arg(const struct http_req *req, const char *name);

/*
 * Answers a request later, from any thread: a handler calls http_later()
 * and returns; whoever holds the handle fills http_later_resp() (with the
 * helpers above) and calls http_later_done() exactly once. The request
 * stays valid until then. For answers that wait on something other than a
 * store command (a batch of positions becoming durable).
 */
struct http_later;
struct http_later *http_later(struct http_resp *resp);
struct http_req *http_later_req(struct http_later *l);
struct http_resp *http_later_resp(struct http_later *l);
void http_later_done(struct http_later *l);

struct store_cmd;
/*
 * Runs a write command for a request, asynchronously: sets the actor, the
 * Idempotency-Key (scoped to the user) and the request's fingerprint, and
 * queues it to the store; the worker is free at once. After the commit the
 * store's writer answers with cmd->status and cmd->answer (JSON text set by
 * apply), or with a problem for cmd->rc (a failing apply may leave a
 * plain-text reason in cmd->answer: it becomes the problem's detail). A
 * retry with the same key gets the first answer again (header
 * idempotent-replayed: true); the same key with a different request gets
 * 422 idempotency-key-reused.
 * `cmd` must be on the heap with what apply needs; `cleanup(cmd)` (may be
 * NULL) frees it once the answer is built, whether or not it ran. The
 * request (and its body and JSON) stays valid until then.
 */
void http_run_command(struct http_req *req, struct http_resp *resp, struct store *st,
                      struct store_cmd *cmd, void (*cleanup)(struct store_cmd *cmd));

#endif
