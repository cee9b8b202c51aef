/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * err.c - names of error codes and roles: the small shared vocabulary of
 * core.h that needs a table.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

const char *am_strerror(int err)
{
    switch (err) {
    case AM_OK:
        return "success";
    case AM_ENOMEM:
        return "out of memory";
    case AM_EINVAL:
        return "invalid input";
    case AM_ENOTFOUND:
        return "not found";
    case AM_ECONFLICT:
        return "conflict with current state";
    case AM_EIO:
        return "input/output error";
    case AM_ETOOBIG:
        return "too large";
    case AM_EAUTH:
        return "not authenticated";
    case AM_EFORBIDDEN:
        return "forbidden";
    case AM_ECORRUPT:
        return "integrity check failed";
    case AM_EBUSY:
        return "busy";
    case AM_ELOCKED:
        return "account locked";
    case AM_ECLOSED:
        return "shutting down";
    case AM_EINTERNAL:
        return "internal error";
    }
    return "unknown error";
}

static const char *const role_names[AM_ROLE_COUNT] = {
    [AM_ROLE_ADMIN] = "admin",           [AM_ROLE_SUPERVISOR] = "supervisor",
    [AM_ROLE_DISPATCHER] = "dispatcher", [AM_ROLE_PATROL] = "patrol",
    [AM_ROLE_ANALYST] = "analyst",       [AM_ROLE_EXAMINER] = "examiner",
    [AM_ROLE_TRAINER] = "trainer",       [AM_ROLE_TRAINEE] = "trainee",
};

const char *am_role_name(enum am_role r)
{
    if ((unsigned)r >= AM_ROLE_COUNT)
        return NULL;
    return role_names[r];
}

int am_role_parse(const char *s, enum am_role *out)
{
    for (int i = 0; i < AM_ROLE_COUNT; i++) {
        if (s && strcmp(s, role_names[i]) == 0) {
            *out = (enum am_role)i;
            return 0;
        }
    }
    return AM_EINVAL;
}

int am_why(char *why, size_t whysz, int rc, const char *fmt, ...)
{
    if (why && whysz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int am_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : first;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / size)
            return AM_ENOMEM;
        nc *= 2;
    }
    void *p = realloc(*(void **)pp, nc * size);
    if (!p)
        return AM_ENOMEM;
    *(void **)pp = p;
    *cap = nc;
    return 0;
}
