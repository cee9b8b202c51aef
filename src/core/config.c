/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * config.c - amane.conf (INI, read with inih), AMANE_* environment variables
 * and --section.key=value flags, all checked against one table of keys with
 * their types and bounds. An unknown key or a bad value is an error, never a
 * silent default: a typo in a police server's configuration must be seen.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core.h"

#define AM_CONFIG_MAX_TEXT (64 * 1024)

enum opt_kind { OPT_STR, OPT_INT, OPT_I64, OPT_ENUM };

struct opt {
    const char *section, *key;
    enum opt_kind kind;
    size_t off, size;
    int64_t min, max;
    const char *choices; /* OPT_ENUM: '|'-separated */
};

#define STR(sec, k, field)                                                                         \
    {                                                                                              \
        sec, k, OPT_STR, offsetof(struct am_config, field),                                        \
            sizeof(((struct am_config *)0)->field), 0, 0, NULL                                     \
    }
#define INT(sec, k, field, lo, hi)                                                                 \
    {                                                                                              \
        sec, k, OPT_INT, offsetof(struct am_config, field), sizeof(int), lo, hi, NULL              \
    }
#define I64(sec, k, field, lo, hi)                                                                 \
    {                                                                                              \
        sec, k, OPT_I64, offsetof(struct am_config, field), sizeof(int64_t), lo, hi, NULL          \
    }
#define ENUM(sec, k, field, ch)                                                                    \
    {                                                                                              \
        sec, k, OPT_ENUM, offsetof(struct am_config, field),                                       \
            sizeof(((struct am_config *)0)->field), 0, 0, ch                                       \
    }

static const struct opt opts[] = {
    STR("server", "listen", listen),
    INT("server", "port", port, 0, 65535),
    INT("server", "workers", workers, 1, 256),
    I64("server", "body_limit", body_limit, 1024, 64 * 1024 * 1024),
    STR("server", "tls_cert", tls_cert),
    STR("server", "tls_key", tls_key),
    STR("server", "web_root", web_root),
    STR("server", "data_dir", data_dir),
    STR("store", "path", db_path),
    INT("store", "readers", readers, 1, 64),
    INT("store", "max_batch", max_batch, 1, 100000),
    ENUM("store", "synchronous", synchronous, "full|normal"),
    I64("auth", "token_ttl", token_ttl_s, 1, 30 * 86400),
    INT("auth", "lockout_threshold", lockout_threshold, 1, 1000),
    I64("auth", "lockout_seconds", lockout_s, 1, 30 * 86400),
    INT("stream", "ring", stream_ring, 16, 1 << 22),
    I64("cad", "ack_timeout", cad_ack_timeout_s, 10, 86400),
    I64("cad", "onscene_timeout", cad_onscene_timeout_s, 60, 7 * 86400),
    I64("cad", "ack_timeout_p1", cad_ack_timeout_p[0], 0, 86400),
    I64("cad", "ack_timeout_p2", cad_ack_timeout_p[1], 0, 86400),
    I64("cad", "ack_timeout_p3", cad_ack_timeout_p[2], 0, 86400),
    I64("cad", "ack_timeout_p4", cad_ack_timeout_p[3], 0, 86400),
    I64("cad", "onscene_timeout_p1", cad_onscene_timeout_p[0], 0, 7 * 86400),
    I64("cad", "onscene_timeout_p2", cad_onscene_timeout_p[1], 0, 7 * 86400),
    I64("cad", "onscene_timeout_p3", cad_onscene_timeout_p[2], 0, 7 * 86400),
    I64("cad", "onscene_timeout_p4", cad_onscene_timeout_p[3], 0, 7 * 86400),
    STR("cad", "default_prefecture", cad_default_prefecture),
    STR("cad", "sectors", cad_sectors),
    STR("cad", "agency", cad_agency),
    STR("roads", "graph", roads_graph),
    I64("roads", "snap_max_m", roads_snap_max_m, 10, 5000),
    I64("roads", "stale_after", roads_stale_s, 10, 86400),
    INT("avl", "osmand_port", avl_osmand_port, -1, 65535),
    INT("avl", "teltonika_port", avl_teltonika_port, -1, 65535),
    STR("avl", "mqtt_host", avl_mqtt_host),
    INT("avl", "mqtt_port", avl_mqtt_port, 1, 65535),
    STR("avl", "mqtt_client_id", avl_mqtt_client_id),
    INT("avl", "mqtt_clients", avl_mqtt_clients, 1, 16),
    ENUM("log", "level", log_level, "debug|info|warn|error"),
};

_Static_assert(sizeof(opts) / sizeof(opts[0]) <= 64, "parse_ctx.seen is a 64-bit mask");

void am_config_defaults(struct am_config *c)
{
    memset(c, 0, sizeof(*c));
    am_strlcpy(c->listen, "127.0.0.1", sizeof(c->listen));
    c->port = 8080;
    c->workers = 16;
    c->body_limit = 1024 * 1024;
#ifndef AMANE_DEFAULT_WEB_ROOT
#define AMANE_DEFAULT_WEB_ROOT "web"
#endif
#ifndef AMANE_DEFAULT_DATA_DIR
#define AMANE_DEFAULT_DATA_DIR "data"
#endif
    am_strlcpy(c->web_root, AMANE_DEFAULT_WEB_ROOT, sizeof(c->web_root));
    am_strlcpy(c->data_dir, AMANE_DEFAULT_DATA_DIR, sizeof(c->data_dir));
    am_strlcpy(c->db_path, "var/amane.db", sizeof(c->db_path));
    c->readers = 4;
    c->max_batch = 512;
    am_strlcpy(c->synchronous, "full", sizeof(c->synchronous));
    c->token_ttl_s = 12 * 3600; /* one shift */
    c->lockout_threshold = 5;
    c->lockout_s = 15 * 60;
    c->stream_ring = 65536;
    c->cad_ack_timeout_s = 120;
    c->cad_onscene_timeout_s = 1800;
    am_strlcpy(c->cad_default_prefecture, "CAS", sizeof(c->cad_default_prefecture));
    am_strlcpy(c->cad_sectors, "sectors/casablanca.geojson", sizeof(c->cad_sectors));
    am_strlcpy(c->cad_agency, "casablanca.dgsn.ma", sizeof(c->cad_agency));
    am_strlcpy(c->log_level, "info", sizeof(c->log_level));
    c->roads_snap_max_m = 300;
    c->roads_stale_s = 120;
    c->avl_osmand_port = 5055;
    c->avl_teltonika_port = 5027;
    c->avl_mqtt_port = 1883;
    am_strlcpy(c->avl_mqtt_client_id, "amaned", sizeof(c->avl_mqtt_client_id));
    c->avl_mqtt_clients = 4;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

int am_config_set(struct am_config *c, const char *section, const char *key, const char *value,
                  char *why, size_t whysz)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const struct opt *o = &opts[i];
        if (strcmp(o->section, section) || strcmp(o->key, key))
            continue;
        char *field = (char *)c + o->off;
        int64_t v;
        switch (o->kind) {
        case OPT_STR:
            if (strlen(value) >= o->size) {
                snprintf(why, whysz, "%s.%s: value longer than %zu bytes", section, key,
                         o->size - 1);
                return AM_EINVAL;
            }
            am_strlcpy(field, value, o->size);
            return 0;
        case OPT_ENUM:
            if (!choice_ok(o->choices, value)) {
                snprintf(why, whysz, "%s.%s: '%.64s' is not one of %s", section, key, value,
                         o->choices);
                return AM_EINVAL;
            }
            am_strlcpy(field, value, o->size);
            return 0;
        case OPT_INT:
        case OPT_I64:
            if (am_parse_i64(value, o->min, o->max, &v)) {
                snprintf(why, whysz, "%s.%s: '%.64s' is not an integer in [%lld, %lld]", section,
                         key, value, (long long)o->min, (long long)o->max);
                return AM_EINVAL;
            }
            if (o->kind == OPT_INT)
                *(int *)field = (int)v;
            else
                *(int64_t *)field = v;
            return 0;
        }
    }
    snprintf(why, whysz, "unknown setting '%.32s.%.32s'", section, key);
    return AM_EINVAL;
}

struct parse_ctx {
    struct am_config *c;
    char *why;
    size_t whysz;
    const char *p, *end; /* text not yet handed to inih */
    int line;            /* lines handed to inih so far */
    int failed_line;     /* line of the first refused setting, 0 if none */
    int long_line;       /* first line too long for inih's buffer, 0 if none */
    int max_line;
    uint64_t seen; /* bit i: opts[i] was set by this text */
};

/* Hands inih one line at a time, so that we know which line a setting came from. */
static char *config_line_reader(char *str, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    if (ctx->p >= ctx->end)
        return NULL;
    const char *nl = memchr(ctx->p, '\n', (size_t)(ctx->end - ctx->p));
    const char *eol = nl ? nl + 1 : ctx->end;
    size_t n = (size_t)(eol - ctx->p), content = n;
    if (content && ctx->p[content - 1] == '\n')
        content--;
    if (content && ctx->p[content - 1] == '\r')
        content--;
    ctx->line++;
    /* The same limit whatever ends the line: the text plus "\r\n" fits inih's buffer. */
    ctx->max_line = num - 3;
    if (content > (size_t)num - 3) {
        /* inih would cut it in two: never let it see half a value. */
        if (!ctx->long_line)
            ctx->long_line = ctx->line;
        am_strlcpy(str, ";\n", (size_t)num);
    } else {
        memcpy(str, ctx->p, n);
        str[n] = '\0';
    }
    ctx->p = eol;
    return str;
}

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (ctx->failed_line)
        return 0;
    /* inih reports an indented line as a continuation of the key above it, under the same
     * name: refusing a key seen twice catches both that and a plain duplicate. */
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (strcmp(opts[i].section, section) || strcmp(opts[i].key, name))
            continue;
        if (ctx->seen & (1ull << i)) {
            snprintf(ctx->why, ctx->whysz, "%s.%s is set twice (or an indented line continues it)",
                     section, name);
            ctx->failed_line = ctx->line;
            return 0;
        }
        ctx->seen |= 1ull << i;
    }
    if (am_config_set(ctx->c, section, name, value, ctx->why, ctx->whysz)) {
        ctx->failed_line = ctx->line;
        return 0;
    }
    return 1;
}

int am_config_parse(struct am_config *c, const char *text, size_t len, char *why, size_t whysz)
{
    if (len > AM_CONFIG_MAX_TEXT) {
        snprintf(why, whysz, "configuration larger than %d bytes", AM_CONFIG_MAX_TEXT);
        return AM_ETOOBIG;
    }
    if (memchr(text, '\0', len) || !am_utf8_valid(text, len)) {
        snprintf(why, whysz, "configuration is not valid UTF-8 text");
        return AM_EINVAL;
    }
    char inner[200] = "";
    struct parse_ctx ctx = {c, inner, sizeof(inner), text, text + len, 0, 0, 0, 0, 0};
    int line = ini_parse_stream(config_line_reader, &ctx, ini_cb, &ctx);
    if (ctx.long_line && (line == 0 || ctx.long_line < line)) {
        snprintf(why, whysz, "line %d: longer than %d bytes", ctx.long_line, ctx.max_line);
        return AM_EINVAL;
    }
    if (line != 0) {
        if (ctx.failed_line == line)
            snprintf(why, whysz, "line %d: %s", line, inner);
        else
            snprintf(why, whysz, "line %d: syntax error", line);
        return AM_EINVAL;
    }
    return 0;
}

int am_config_load_file(struct am_config *c, const char *path, char *why, size_t whysz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whysz, "cannot open '%s'", path);
        return AM_ENOTFOUND;
    }
    char *buf = malloc(AM_CONFIG_MAX_TEXT + 1);
    if (!buf) {
        fclose(f);
        return AM_ENOMEM;
    }
    size_t n = fread(buf, 1, AM_CONFIG_MAX_TEXT + 1, f);
    int rc;
    if (ferror(f)) {
        snprintf(why, whysz, "cannot read '%s'", path);
        rc = AM_EIO;
    } else {
        char inner[200] = "";
        rc = am_config_parse(c, buf, n, inner, sizeof(inner));
        if (rc)
            snprintf(why, whysz, "%s: %s", path, inner);
    }
    free(buf);
    fclose(f);
    return rc;
}

/* Splits "section.key" (or "SECTION_KEY" for env) into lower-case parts. */
static int split_name(const char *name, size_t n, char sep, char *sec, size_t secsz, char *key,
                      size_t keysz)
{
    const char *s = memchr(name, sep, n);
    if (!s || s == name || (size_t)(s - name) >= secsz || n - (size_t)(s - name) - 1 >= keysz ||
        s + 1 == name + n)
        return AM_EINVAL;
    size_t sl = (size_t)(s - name);
    for (size_t i = 0; i < sl; i++)
        sec[i] = (char)tolower((unsigned char)name[i]);
    sec[sl] = '\0';
    size_t kl = n - sl - 1;
    for (size_t i = 0; i < kl; i++)
        key[i] = (char)tolower((unsigned char)s[1 + i]);
    key[kl] = '\0';
    return 0;
}

int am_config_apply_env(struct am_config *c, char **envp, char *why, size_t whysz)
{
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "AMANE_", 6))
            continue;
        const char *name = *e + 6;
        const char *eq = strchr(name, '=');
        if (!eq)
            continue;
        char sec[32], key[64];
        if (split_name(name, (size_t)(eq - name), '_', sec, sizeof(sec), key, sizeof(key)))
            continue;
        /* AMANE_* variables of other sections belong to scripts, not to us. */
        bool known = false;
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
            known = known || strcmp(opts[i].section, sec) == 0;
        if (!known)
            continue;
        char inner[200];
        if (am_config_set(c, sec, key, eq + 1, inner, sizeof(inner))) {
            snprintf(why, whysz, "environment %.*s: %s", (int)(eq - *e), *e, inner);
            return AM_EINVAL;
        }
    }
    return 0;
}

int am_config_apply_args(struct am_config *c, int *argc, char **argv, char *why, size_t whysz)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *dot = strchr(a, '.');
        if (strncmp(a, "--", 2) || !eq || !dot || dot > eq) {
            argv[out++] = argv[i];
            continue;
        }
        char sec[32], key[64];
        if (split_name(a + 2, (size_t)(eq - a - 2), '.', sec, sizeof(sec), key, sizeof(key))) {
            snprintf(why, whysz, "cannot read option '%.64s'", a);
            return AM_EINVAL;
        }
        if (am_config_set(c, sec, key, eq + 1, why, whysz))
            return AM_EINVAL;
    }
    *argc = out;
    return 0;
}
