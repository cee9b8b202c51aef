/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * core.h - the public header of amane's core: errors, logging, clock, ids,
 * bounded string helpers, JSON helpers, the worker pool, metrics and the
 * shared vocabulary (roles, principals, events) that services pass between
 * them. Everything else in amane depends on this header; it depends only on
 * libc, pthreads and jansson.
 */
#ifndef AM_CORE_H
#define AM_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---------------------------------------------------------------- errors */

/*
 * One error enum for the whole code base. Functions that can fail return 0
 * or one of these (negative) codes. am_strerror() names them.
 */
enum am_err {
    AM_OK = 0,
    AM_ENOMEM = -1,     /* out of memory */
    AM_EINVAL = -2,     /* invalid argument or input */
    AM_ENOTFOUND = -3,  /* no such object */
    AM_ECONFLICT = -4,  /* conflicts with the current state */
    AM_EIO = -5,        /* storage or network I/O failed */
    AM_ETOOBIG = -6,    /* input exceeds a limit */
    AM_EAUTH = -7,      /* not authenticated */
    AM_EFORBIDDEN = -8, /* authenticated, but not allowed */
    AM_ECORRUPT = -9,   /* stored data failed an integrity check */
    AM_EBUSY = -10,     /* resource busy, try again */
    AM_ELOCKED = -11,   /* account locked */
    AM_ECLOSED = -12,   /* the service is shutting down */
    AM_EINTERNAL = -13, /* a bug: an invariant did not hold */
};

/* Returns a static, human-readable name for an AM_E* code. */
const char *am_strerror(int err);
/*
 * Makes room for `need` elements of `size` bytes in the growable array at
 * *(void **)pp of capacity *cap, doubling from `first`. Returns 0, or
 * AM_ENOMEM with the array unchanged.
 */
int am_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first);

/*
 * Writes a one-line reason into `why` (when why is not NULL and whysz > 0)
 * and returns rc, for functions that explain their failures to the caller:
 * `return am_why(why, whysz, AM_EINVAL, "bad %s", name);`
 */
int am_why(char *why, size_t whysz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- logging */

enum am_log_level { AM_LOG_DEBUG = 0, AM_LOG_INFO, AM_LOG_WARN, AM_LOG_ERROR };

/* Sets the minimum level written; messages below it are dropped. */
void am_log_set_level(enum am_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns AM_EINVAL otherwise. */
int am_log_parse_level(const char *s, enum am_log_level *out);
enum am_log_level am_log_get_level(void);

/*
 * Writes one structured line to stderr, in logfmt:
 *   ts=2025-01-01T10:00:00.000000Z level=info mod=store msg="..." k=v ...
 * `fields` is an optional printf format producing further `key=value` pairs
 * (may be NULL). Values are the caller's to quote. Never pass secrets.
 * Thread-safe: each line is written with a single write(2).
 */
void am_log(enum am_log_level level, const char *mod, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 4, 5)));

#define am_debug(mod, msg, ...) am_log(AM_LOG_DEBUG, mod, msg, __VA_ARGS__)
#define am_info(mod, msg, ...)  am_log(AM_LOG_INFO, mod, msg, __VA_ARGS__)
#define am_warn(mod, msg, ...)  am_log(AM_LOG_WARN, mod, msg, __VA_ARGS__)
#define am_error(mod, msg, ...) am_log(AM_LOG_ERROR, mod, msg, __VA_ARGS__)

/* For our own bugs: logs and aborts. Never for bad input. */
#define AM_BUG(msg)                                                                                \
    do {                                                                                           \
        am_log(AM_LOG_ERROR, "bug", msg, "at=%s:%d", __FILE__, __LINE__);                          \
        abort();                                                                                   \
    } while (0)

/* ---------------------------------------------------------------- clock */

/* Wall-clock time, microseconds since the Unix epoch, UTC. */
int64_t am_now_us(void);
/* Monotonic time in microseconds, for durations and timeouts. */
int64_t am_mono_us(void);
/*
 * Formats `us` as RFC 3339 UTC with microseconds ("2025-01-01T10:00:00.123456Z")
 * into `buf` (at least AM_TIME_BUFSZ bytes). Returns buf.
 */
#define AM_TIME_BUFSZ 32
char *am_time_fmt(int64_t us, char *buf, size_t bufsz);
/* Parses an RFC 3339 timestamp (with Z or +hh:mm offset); AM_EINVAL if malformed. */
int am_time_parse(const char *s, int64_t *us_out);

/* A stretch of time during which a zone keeps one UTC offset. */
struct am_tz_span {
    int64_t from_us;  /* start, UTC microseconds */
    int32_t offset_s; /* local time minus UTC, seconds */
};
/*
 * The UTC offsets of `zone` (e.g. "Africa/Casablanca") over [from_us, to_us]
 * from the system's tz database: spans in time order, the first starting at
 * from_us, each transition found to the second. At most `max` spans; *n set.
 * AM_ENOTFOUND if the zone is unknown. Not thread-safe (it sets TZ for the
 * duration): call it at start, before threads.
 */
int am_tz_spans(const char *zone, int64_t from_us, int64_t to_us, struct am_tz_span *out,
                size_t max, size_t *n);

/* ---------------------------------------------------------------- ids, strings */

/* Fills `buf` with `n` random bytes from the OS CSPRNG (libsodium). */
void am_random(void *buf, size_t n);
/* A random 128-bit id as 32 lowercase hex characters plus NUL (33 bytes). */
#define AM_ID_BUFSZ 33
void am_id_new(char out[AM_ID_BUFSZ]);
/* Lowercase hex of `n` bytes into `out` (2n+1 bytes). */
void am_hex(const uint8_t *in, size_t n, char *out);
/* Parses 2n hex digits into n bytes; AM_EINVAL on any other input. */
int am_unhex(const char *in, uint8_t *out, size_t n);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t am_strlcpy(char *dst, const char *src, size_t size);
/* Strict decimal integer in [min, max], no trailing garbage. */
int am_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* 1 if `s` (length n) is well-formed UTF-8 without NUL bytes. */
bool am_utf8_valid(const char *s, size_t n);
/* Decodes the UTF-8 sequence at s (n bytes left) into *cp: its length, 0 if malformed or n is 0. */
size_t am_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Writes code point cp (at most U+10FFFF) as UTF-8 into out; returns its length (1 to 4). */
size_t am_utf8_encode(uint32_t cp, char out[4]);

/*
 * A growable byte buffer. Caller-owned: am_buf_init() then am_buf_release().
 * Appends fail with AM_ETOOBIG past `max` bytes (0: no limit).
 */
struct am_buf {
    char *data;
    size_t len, cap, max;
};
void am_buf_init(struct am_buf *b, size_t max);
void am_buf_release(struct am_buf *b);
int am_buf_append(struct am_buf *b, const void *p, size_t n);
int am_buf_printf(struct am_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the data (NUL-terminated) out of the buffer; the caller frees it. */
char *am_buf_steal(struct am_buf *b);

/* ---------------------------------------------------------------- JSON */

/* Limits for JSON read from outside. */
#define AM_JSON_MAX_DEPTH 32

/*
 * Parses an untrusted JSON document of `len` bytes. Rejects invalid UTF-8,
 * NUL bytes, duplicate keys, nesting deeper than AM_JSON_MAX_DEPTH, and
 * anything but an object at the top. On failure returns AM_EINVAL (or
 * AM_ETOOBIG past `max_len`) and writes a one-line reason to `why`.
 * On success *out holds a new reference the caller must json_decref().
 */
int am_json_parse_object(const char *buf, size_t len, size_t max_len, json_t **out, char *why,
                         size_t whysz);

/*
 * Checks that object `obj` has only keys listed in the NULL-terminated
 * `allowed` array. On an unknown key returns AM_EINVAL and names it in `why`.
 */
int am_json_only_keys(const json_t *obj, const char *const *allowed, char *why, size_t whysz);

/*
 * Canonical serialisation used for hashing: compact, keys sorted, UTF-8,
 * integers exact, reals with 17 significant digits. Caller frees.
 */
char *am_json_canonical(const json_t *v);

/* ---------------------------------------------------------------- SHA-256 */

#define AM_SHA256_LEN 32
void am_sha256(const void *data, size_t n, uint8_t out[AM_SHA256_LEN]);

/* ---------------------------------------------------------------- roles */

/*
 * The roles of amane. A route declares the set of roles (a bit mask) that may
 * call it; a principal has exactly one role.
 */
enum am_role {
    AM_ROLE_ADMIN = 0,
    AM_ROLE_SUPERVISOR,
    AM_ROLE_DISPATCHER,
    AM_ROLE_PATROL,
    AM_ROLE_ANALYST,
    AM_ROLE_EXAMINER,
    AM_ROLE_TRAINER,
    AM_ROLE_TRAINEE,
    AM_ROLE_COUNT
};
#define AM_ROLE_BIT(r) (1u << (r))
#define AM_ROLES_ALL   ((1u << AM_ROLE_COUNT) - 1)

/* "admin", "supervisor", ...; NULL for an invalid value. */
const char *am_role_name(enum am_role r);
/* AM_EINVAL if `s` names no role. */
int am_role_parse(const char *s, enum am_role *out);

/* Who is calling: filled by authentication, read by handlers. */
struct am_principal {
    int64_t user_id;
    char username[64];
    enum am_role role;
    int64_t token_expires_us;
};

/* ---------------------------------------------------------------- events */

/*
 * A committed event of the event log, as passed to subscribers after commit.
 * Immutable once published; shared by reference count.
 */
struct am_event {
    int64_t seq;
    int64_t ts_us;
    char type[64];
    char actor[64];
    char *data; /* canonical JSON object text */
    size_t data_len;
    uint8_t hash[AM_SHA256_LEN];
    int refs; /* atomic */
};

/* Allocates an event with refs=1; copies `data`. NULL on ENOMEM. */
struct am_event *am_event_new(int64_t seq, int64_t ts_us, const char *type, const char *actor,
                              const char *data, size_t data_len);
void am_event_ref(struct am_event *ev);
void am_event_unref(struct am_event *ev);
/*
 * The event as a JSON object {"seq","ts","type","actor","data"}, as the API
 * and the stream show it. New reference; NULL if the stored data is not JSON.
 */
json_t *am_event_json(const struct am_event *ev);

/* ---------------------------------------------------------------- worker pool */

/*
 * A fixed pool of threads running submitted jobs in FIFO order. Handlers
 * that touch SQL or compute run here, never on the network loop.
 */
struct am_pool;
typedef void (*am_job_fn)(void *arg);
/* Starts `nthreads` workers. *out on success. */
int am_pool_new(struct am_pool **out, int nthreads, size_t max_queue);
/* Queues `fn(arg)`; AM_EBUSY when the queue is full, AM_ECLOSED when stopping. */
int am_pool_submit(struct am_pool *p, am_job_fn fn, void *arg);
/* Runs the jobs already queued, joins the threads and frees the pool. */
void am_pool_free(struct am_pool *p);
size_t am_pool_queued(struct am_pool *p);

/* ---------------------------------------------------------------- metrics */

/*
 * Process-wide counters and histograms rendered in the Prometheus text format.
 * Metrics are registered once at start (not thread-safe) and updated from any
 * thread with atomics.
 */
struct am_counter {
    const char *name, *help, *labels; /* labels: e.g. `code="2xx"` or NULL */
    uint64_t value;
    struct am_counter *next;
};
#define AM_HIST_BUCKETS 14
struct am_hist {
    const char *name, *help;
    uint64_t buckets[AM_HIST_BUCKETS]; /* counts per upper bound, see am_hist_bounds */
    uint64_t count;
    uint64_t sum_us;
    struct am_hist *next;
};
void am_counter_register(struct am_counter *c);
void am_hist_register(struct am_hist *h);
void am_counter_add(struct am_counter *c, uint64_t n);
/* Observes a duration in microseconds. */
void am_hist_observe(struct am_hist *h, uint64_t us);
/* Gauges are read on demand through a callback. */
typedef double (*am_gauge_fn)(void *arg);
void am_gauge_register(const char *name, const char *help, am_gauge_fn fn, void *arg);
/* Renders every metric; the caller releases `out`. */
int am_metrics_render(struct am_buf *out);

/* ---------------------------------------------------------------- configuration */

/*
 * Configuration, in order of precedence (last wins): built-in defaults,
 * the INI file, AMANE_<SECTION>_<KEY> environment variables, command-line
 * `--section.key=value` flags.
 */
struct am_config {
    /* [server] */
    char listen[64];
    int port;
    int workers;
    int64_t body_limit;
    char tls_cert[512];
    char tls_key[512];
    char web_root[512];
    char data_dir[512];
    /* [store] */
    char db_path[512];
    int readers;
    int max_batch;
    char synchronous[16]; /* "full" or "normal" */
    /* [auth] */
    int64_t token_ttl_s;
    int lockout_threshold;
    int64_t lockout_s;
    /* [stream] */
    int stream_ring;
    /* [cad] */
    int64_t cad_ack_timeout_s;
    int64_t cad_onscene_timeout_s;
    int64_t cad_ack_timeout_p[4];     /* by priority 1..4; 0: cad_ack_timeout_s */
    int64_t cad_onscene_timeout_p[4]; /* by priority 1..4; 0: cad_onscene_timeout_s */
    char cad_default_prefecture[8];
    char cad_agency[128];
    char cad_sectors[512]; /* police sectors GeoJSON; relative paths are under data_dir */
    /* [roads] */
    char roads_graph[512];    /* "" : var/roads.graph next to the store if present, else the
                                 shipped Casablanca extract; "off": no routing */
    int64_t roads_snap_max_m; /* how far from a road a position may be, metres */
    int64_t roads_stale_s;    /* a unit position older than this is stale */
    /* [avl] */
    int avl_osmand_port;         /* OsmAnd HTTP listener (Traccar Client); 0: any, -1: none */
    int avl_teltonika_port;      /* Teltonika Codec 8/8E TCP listener; 0: any, -1: none */
    char avl_mqtt_host[256];     /* MQTT broker of connected vehicles; "": none */
    int avl_mqtt_port;           /* its port (1883) */
    char avl_mqtt_client_id[64]; /* amaned's persistent session there */
    int avl_mqtt_clients;        /* its clients sharing the telemetry subscription (1..16) */
    /* [log] */
    char log_level[16];
};

/* Fills the built-in defaults. */
void am_config_defaults(struct am_config *c);
/*
 * Sets one `section.key` to `value`, validating it. Returns AM_EINVAL with
 * a reason in `why` for an unknown key or a bad value.
 */
int am_config_set(struct am_config *c, const char *section, const char *key, const char *value,
                  char *why, size_t whysz);
/*
 * Parses INI text (`len` bytes, need not be NUL-terminated). On error returns
 * AM_EINVAL and writes "line N: reason" into `why`. Bounded: at most 64 KiB.
 */
int am_config_parse(struct am_config *c, const char *text, size_t len, char *why, size_t whysz);
/* Reads and parses a file; a missing file is AM_ENOTFOUND. */
int am_config_load_file(struct am_config *c, const char *path, char *why, size_t whysz);
/* Applies AMANE_SECTION_KEY variables from `envp` (NULL-terminated). */
int am_config_apply_env(struct am_config *c, char **envp, char *why, size_t whysz);
/*
 * Applies `--section.key=value` arguments. Arguments that do not start with
 * `--` and contain no '.' before '=' are left alone and counted in *rest
 * (moved to the front of argv, order kept). `-c FILE`/`--config=FILE` are
 * handled by the caller before this.
 */
int am_config_apply_args(struct am_config *c, int *argc, char **argv, char *why, size_t whysz);

#include "banned.h"

#endif
