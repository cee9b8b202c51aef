/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * json.c - reading untrusted JSON bodies with strict limits, checking their
 * fields, and the canonical form that the event log hashes.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

static int depth_of(const json_t *v, int depth)
{
    if (depth > AM_JSON_MAX_DEPTH)
        return depth;
    int max = depth;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            if (!json_is_object(child) && !json_is_array(child))
                continue;
            int d = depth_of(child, depth + 1);
            if (d > max)
                max = d;
            if (max > AM_JSON_MAX_DEPTH)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            if (!json_is_object(child) && !json_is_array(child))
                continue;
            int d = depth_of(child, depth + 1);
            if (d > max)
                max = d;
            if (max > AM_JSON_MAX_DEPTH)
                break;
        }
    }
    return max;
}

/* Jansson refuses documents nested deeper than this itself, before we see them. */
static bool nesting_too_deep(const char *buf, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[') {
            if (++depth > AM_JSON_MAX_DEPTH + 1)
                return true;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return false;
}

/*
 * jansson quotes the input near an error ("near '...'"): keep the reason one
 * line of valid UTF-8, so it can go into a problem+json answer.
 */
static void clean_reason(char *why)
{
    size_t n = strlen(why);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
            why[i] = '?';
    while (n > 0 && !am_utf8_valid(why, n))
        why[--n] = '\0';
}

int am_json_parse_object(const char *buf, size_t len, size_t max_len, json_t **out, char *why,
                         size_t whysz)
{
    *out = NULL;
    if (max_len && len > max_len) {
        snprintf(why, whysz, "body of %zu bytes exceeds the limit of %zu bytes", len, max_len);
        return AM_ETOOBIG;
    }
    if (len == 0) {
        snprintf(why, whysz, "empty body, a JSON object was expected");
        return AM_EINVAL;
    }
    if (!am_utf8_valid(buf, len)) {
        snprintf(why, whysz, "body is not valid UTF-8");
        return AM_EINVAL;
    }
    /* A cheap pre-scan keeps a deeply nested document from costing us recursion. */
    if (nesting_too_deep(buf, len)) {
        snprintf(why, whysz, "JSON nested deeper than %d levels", AM_JSON_MAX_DEPTH);
        return AM_EINVAL;
    }
    json_error_t err;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        snprintf(why, whysz, "malformed JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        clean_reason(why);
        return AM_EINVAL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(why, whysz, "a JSON object was expected at the top level");
        return AM_EINVAL;
    }
    if (depth_of(v, 1) > AM_JSON_MAX_DEPTH) {
        json_decref(v);
        snprintf(why, whysz, "JSON nested deeper than %d levels", AM_JSON_MAX_DEPTH);
        return AM_EINVAL;
    }
    *out = v;
    return 0;
}

int am_json_only_keys(const json_t *obj, const char *const *allowed, char *why, size_t whysz)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(*a, k) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            snprintf(why, whysz, "unknown field '%.64s'", k);
            return AM_EINVAL;
        }
    }
    return 0;
}

char *am_json_canonical(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
}
