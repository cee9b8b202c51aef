/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_json_body.c - fuzzes the reader of untrusted JSON request bodies,
 * am_json_parse_object(), with the server's default 1 MiB limit, then the
 * field check am_json_only_keys() and the canonical form the event log
 * hashes. It asserts that a refusal leaves no object and gives a reason;
 * that an accepted body has no NUL byte, no nesting deeper than
 * AM_JSON_MAX_DEPTH and no duplicate key (the keys counted in the text equal
 * the keys of the parsed value); that the field check agrees with a plain loop over the
 * keys; and that the canonical text re-parses to an equal value whose
 * canonical text is the same bytes (if not, two nodes could hash one event
 * differently). Any failed check is abort(), a real bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define BODY_LIMIT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fields of the login, user and logbook bodies. */
static const char *const allowed[] = {"username", "password", "display_name", "role", "text",
                                      "category", NULL};

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_json_body: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void check_reason(const char *why, size_t whysz)
{
    if (!memchr(why, '\0', whysz) || why[0] == '\0')
        fail("a refusal must give a NUL-terminated reason", NULL);
}

/* Nesting depth, the top-level object being 1; stops counting past the limit. */
static int depth(const json_t *v)
{
    int max = 0;
    size_t i;
    const char *k;
    json_t *child;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, child)
        {
            int d = depth(child);
            max = d > max ? d : max;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            int d = depth(child);
            max = d > max ? d : max;
        }
    } else {
        return 0;
    }
    return max + 1;
}

/* Keys in the parsed value, all objects included. */
static size_t count_keys(const json_t *v)
{
    size_t n = 0, i;
    const char *k;
    json_t *child;
    if (json_is_object(v)) {
        n = json_object_size(v);
        json_object_foreach((json_t *)v, k, child)
        {
            n += count_keys(child);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            n += count_keys(child);
        }
    }
    return n;
}

/* Keys in the text of a well-formed document: the strings followed by ':'. */
static size_t count_text_keys(const uint8_t *s, size_t n)
{
    size_t keys = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"')
            continue;
        for (i++; i < n && s[i] != '"'; i++)
            if (s[i] == '\\')
                i++;
        size_t j = i + 1;
        while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
            j++;
        keys += j < n && s[j] == ':';
    }
    return keys;
}

static bool keys_allowed(const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(allowed[i], k) == 0;
        if (!ok)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    json_t *v = json_null(); /* poison: a refusal must reset it to NULL */
    memset(why, 'x', sizeof(why));
    int rc = am_json_parse_object((const char *)data, size, BODY_LIMIT, &v, why, sizeof(why));
    if (rc) {
        if (rc != AM_EINVAL && rc != AM_ETOOBIG)
            fail("unexpected error code", am_strerror(rc));
        if (v)
            fail("a refused body must leave *out NULL", why);
        check_reason(why, sizeof(why));
        return 0;
    }
    if (!v || !json_is_object(v))
        fail("success without an object", NULL);
    if (memchr(data, '\0', size))
        fail("accepted a body with a NUL byte", NULL);
    if (depth(v) > AM_JSON_MAX_DEPTH)
        fail("accepted a body nested deeper than AM_JSON_MAX_DEPTH", NULL);
    if (count_keys(v) != count_text_keys(data, size))
        fail("accepted a body with a duplicate key", NULL);

    memset(why, 'x', sizeof(why));
    rc = am_json_only_keys(v, allowed, why, sizeof(why));
    if ((rc == 0) != keys_allowed(v))
        fail("am_json_only_keys disagrees with the key loop", rc ? why : "accepted");
    if (rc)
        check_reason(why, sizeof(why));

    char *canon = am_json_canonical(v);
    if (!canon)
        fail("am_json_canonical failed on a parsed object", NULL);
    /* The canonical form may be longer than the body (reals get 17 digits): no limit here. */
    json_t *again = NULL;
    rc = am_json_parse_object(canon, strlen(canon), 0, &again, why, sizeof(why));
    if (rc)
        fail("canonical text does not re-parse", why);
    if (!json_equal(v, again))
        fail("canonical text re-parses to a different value", canon);
    char *canon2 = am_json_canonical(again);
    if (!canon2 || strcmp(canon, canon2) != 0)
        fail("canonical form is not stable", canon);

    free(canon2);
    free(canon);
    json_decref(again);
    json_decref(v);
    return 0;
}
