/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * log.c - structured logging to stderr in logfmt, one write(2) per line so
 * that lines from different threads never interleave.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static _Atomic int min_level = AM_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void am_log_set_level(enum am_log_level level)
{
    atomic_store(&min_level, (int)level);
}

enum am_log_level am_log_get_level(void)
{
    return (enum am_log_level)atomic_load(&min_level);
}

int am_log_parse_level(const char *s, enum am_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum am_log_level)i;
            return 0;
        }
    }
    return AM_EINVAL;
}

/* Appends `s` as a logfmt quoted value, escaping quotes, backslashes and controls. */
static size_t quote_into(char *out, size_t pos, size_t cap, const char *s)
{
    if (pos < cap)
        out[pos++] = '"';
    for (; *s && pos + 3 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[pos++] = '\\';
            out[pos++] = (char)ch;
        } else if (ch < 0x20) {
            out[pos++] = '\\';
            out[pos++] = ch == '\n' ? 'n' : '?';
        } else {
            out[pos++] = (char)ch;
        }
    }
    if (pos < cap)
        out[pos++] = '"';
    return pos;
}

void am_log(enum am_log_level level, const char *mod, const char *msg, const char *fields, ...)
{
    if ((int)level < atomic_load(&min_level))
        return;
    char line[2048];
    char ts[AM_TIME_BUFSZ];
    size_t cap = sizeof(line) - 1; /* room for '\n' */
    int n =
        snprintf(line, cap, "ts=%s level=%s mod=%s msg=", am_time_fmt(am_now_us(), ts, sizeof(ts)),
                 level_names[level < 0 || level > 3 ? 3 : level], mod ? mod : "-");
    size_t pos = n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap);
    pos = quote_into(line, pos, cap, msg ? msg : "");
    if (fields && *fields && pos + 1 < cap) {
        line[pos++] = ' ';
        va_list ap;
        va_start(ap, fields);
        n = vsnprintf(line + pos, cap - pos, fields, ap);
        va_end(ap);
        if (n > 0)
            pos += (size_t)n < cap - pos ? (size_t)n : cap - pos - 1;
    }
    line[pos++] = '\n';
    /* A short write to stderr is not worth retrying; logging must not block the caller. */
    ssize_t w = write(STDERR_FILENO, line, pos);
    (void)w;
}
