/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_config.c - fuzzes the amane.conf reader, am_config_parse(), on top of
 * the built-in defaults, as amaned does with the file an operator wrote. It
 * asserts that a refusal is AM_EINVAL or AM_ETOOBIG with a reason, and that
 * an accepted file leaves a configuration the server can trust: every number
 * within the bounds of its key, every string NUL-terminated inside its array,
 * every choice one of the allowed words, and every string setting that
 * changed found whole in the text (after '=', ':' or a space, before a
 * space, a line end or the end of the text), so that no value was silently
 * cut. Any failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

#define CHECK_RANGE(field, lo, hi)                                                                 \
    do {                                                                                           \
        if ((int64_t)(field) < (lo) || (int64_t)(field) > (hi))                                    \
            fail(#field " out of range");                                                          \
    } while (0)

#define CHECK_STR(field)                                                                           \
    do {                                                                                           \
        if (!memchr((field), '\0', sizeof(field)))                                                 \
            fail(#field " is not NUL-terminated within its array");                                \
    } while (0)

static void check_choice(const char *v, const char *const *choices, const char *name)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0)
            return;
    fprintf(stderr, "fuzz_config: %s = '%s' is not an allowed value\n", name, v);
    abort();
}

static void check_config(const struct am_config *c)
{
    static const char *const sync_choices[] = {"full", "normal", NULL};
    static const char *const level_choices[] = {"debug", "info", "warn", "error", NULL};

    CHECK_STR(c->listen);
    CHECK_STR(c->tls_cert);
    CHECK_STR(c->tls_key);
    CHECK_STR(c->web_root);
    CHECK_STR(c->db_path);
    CHECK_STR(c->synchronous);
    CHECK_STR(c->log_level);
    CHECK_RANGE(c->port, 0, 65535);
    CHECK_RANGE(c->cad_ack_timeout_s, 10, 86400);
    CHECK_RANGE(c->cad_onscene_timeout_s, 60, 7 * 86400);
    CHECK_STR(c->cad_default_prefecture);
    CHECK_RANGE(c->workers, 1, 256);
    CHECK_RANGE(c->body_limit, 1024, 64 * 1024 * 1024);
    CHECK_RANGE(c->readers, 1, 64);
    CHECK_RANGE(c->max_batch, 1, 100000);
    CHECK_RANGE(c->token_ttl_s, 1, 30 * 86400);
    CHECK_RANGE(c->lockout_threshold, 1, 1000);
    CHECK_RANGE(c->lockout_s, 1, 30 * 86400);
    CHECK_RANGE(c->stream_ring, 16, 1 << 22);
    check_choice(c->synchronous, sync_choices, "store.synchronous");
    check_choice(c->log_level, level_choices, "log.level");
    enum am_log_level level;
    if (am_log_parse_level(c->log_level, &level))
        fail("log.level accepted by the config but not by am_log_parse_level");
}

static bool is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/*
 * A changed string setting must appear in the text as a whole value: after
 * '=', ':' or a space, and before a space, a line end or the end of the text.
 */
static void check_whole(const char *v, const char *def, const uint8_t *text, size_t len,
                        const char *name)
{
    size_t n = strlen(v);
    if (n == 0 || strcmp(v, def) == 0)
        return;
    for (const uint8_t *p = text, *end = text + len; (p = memmem(p, (size_t)(end - p), v, n));
         p++) {
        bool starts = p > text && (p[-1] == '=' || p[-1] == ':' || is_space(p[-1]));
        bool ends = p + n == end || is_space(p[n]);
        if (starts && ends)
            return;
    }
    fprintf(stderr, "fuzz_config: %s = '%s' is not a whole value of the text\n", name, v);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct am_config c;
    char why[256];
    am_config_defaults(&c);
    check_config(&c);
    memset(why, 'x', sizeof(why));
    int rc = am_config_parse(&c, (const char *)data, size, why, sizeof(why));
    if (rc) {
        if (rc != AM_EINVAL && rc != AM_ETOOBIG)
            fail("unexpected error code");
        if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
            fail("a refusal must give a NUL-terminated reason");
        return 0;
    }
    check_config(&c);
    struct am_config d;
    am_config_defaults(&d);
    check_whole(c.listen, d.listen, data, size, "server.listen");
    check_whole(c.tls_cert, d.tls_cert, data, size, "server.tls_cert");
    check_whole(c.tls_key, d.tls_key, data, size, "server.tls_key");
    check_whole(c.web_root, d.web_root, data, size, "server.web_root");
    check_whole(c.db_path, d.db_path, data, size, "store.path");
    check_whole(c.cad_default_prefecture, d.cad_default_prefecture, data, size,
                "cad.default_prefecture");
    return 0;
}
