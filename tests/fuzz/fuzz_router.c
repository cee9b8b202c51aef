/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_router.c - fuzzes the route matcher, http_route_find(), with request
 * paths as the network loop hands them over. The first input byte picks the
 * method, the rest is the path. Two route tables are built like amaned's:
 * the platform's routes, routes with up to five {param} segments, a {param}
 * followed by a trailing `*` segment and, in one table only, the static
 * catch-all.
 *
 * It asserts that the result agrees with a reference matcher written here
 * by splitting the pattern and the path on '/': same route, same outcome
 * (404 and 405 are both accepted when the only route of another method that
 * matches ends in '*'), same parameter values. It also asserts that nparams
 * is within [0, HTTP_MAX_PARAMS] and that every parameter is a non-empty
 * NUL-terminated string inside its array. Any failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

#define MAX_PATH_LEN 4096
#define MAX_SEGMENTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned ADMIN = AM_ROLE_BIT(AM_ROLE_ADMIN);

static const struct {
    enum http_method method;
    const char *pattern;
    unsigned roles, flags;
} table[] = {
    {HTTP_GET, "/healthz", 0, HTTP_PUBLIC},
    {HTTP_GET, "/metrics", 0, HTTP_PUBLIC},
    {HTTP_POST, "/api/v1/auth/login", 0, HTTP_PUBLIC | HTTP_JSON_BODY},
    {HTTP_POST, "/api/v1/auth/logout", AM_ROLES_ALL, 0},
    {HTTP_GET, "/api/v1/me", AM_ROLES_ALL, 0},
    {HTTP_GET, "/api/v1/users", ADMIN, 0},
    {HTTP_POST, "/api/v1/users", ADMIN, HTTP_JSON_BODY},
    {HTTP_POST, "/api/v1/users/{username}/disable", ADMIN, 0},
    {HTTP_POST, "/api/v1/users/{username}/password", ADMIN, HTTP_JSON_BODY},
    {HTTP_GET, "/api/v1/events", ADMIN, 0},
    {HTTP_GET, "/api/v1/audit/verify", ADMIN, 0},
    {HTTP_GET, "/api/v1/stream", AM_ROLES_ALL, 0},
    {HTTP_POST, "/api/v1/logbook", ADMIN, HTTP_JSON_BODY},
    {HTTP_GET, "/api/v1/logbook", ADMIN, 0},
    /* Shapes the next modules will add. */
    {HTTP_GET, "/api/v1/incidents/{id}", AM_ROLES_ALL, 0},
    {HTTP_PATCH, "/api/v1/incidents/{id}", AM_ROLES_ALL, HTTP_JSON_BODY},
    {HTTP_PUT, "/api/v1/incidents/{id}/units/{unit}", AM_ROLES_ALL, 0},
    {HTTP_DELETE, "/api/v1/incidents/{id}/units/{unit}", AM_ROLES_ALL, 0},
    {HTTP_GET, "/api/v1/cases/{case}/exhibits/{exhibit}/custody/{entry}/files/{file}", ADMIN, 0},
    /* Five parameters: more than HTTP_MAX_PARAMS, so it must never match. */
    {HTTP_GET, "/api/v1/deep/{a}/{b}/{c}/{d}/{e}", ADMIN, 0},
    {HTTP_GET, "/api/v1/library/{course}/*", AM_ROLES_ALL, 0},
    {HTTP_OPTIONS, "/api/v1/*", 0, HTTP_PUBLIC},
    {HTTP_GET, "/osmand/{device}", 0, HTTP_PUBLIC},
    {HTTP_POST, "/", 0, HTTP_PUBLIC},
    {HTTP_GET, "/x/{}/y/", 0, HTTP_PUBLIC},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static void no_handler(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)req;
    (void)resp;
    (void)arg;
}

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "fuzz_router: %s: path '%s'\n", what, path);
    abort();
}

static struct http_server *server_new(bool with_static)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    for (size_t i = 0; i < NTABLE; i++)
        if (http_route(s, table[i].method, table[i].pattern, table[i].roles, table[i].flags,
                       no_handler, NULL))
            abort();
    if (with_static && http_route_static(s))
        abort();
    return s;
}

/* Splits "/a/b" after its leading '/' into segments; "/" is one empty segment. */
static int split(const char *p, const char **seg, size_t *len, int max)
{
    int n = 0;
    p++;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (n == max)
            return -1;
        seg[n] = p;
        len[n] = l;
        n++;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

struct ref_params {
    int n;
    char v[HTTP_MAX_PARAMS][sizeof(((struct http_req *)0)->param[0])];
};

/*
 * The matching rules, segment by segment: a literal segment matches itself,
 * {name} any non-empty segment shorter than a parameter's array (at most
 * HTTP_MAX_PARAMS of them), and '*' whatever remains, even nothing.
 */
static bool ref_match(const char *pattern, const char *path, struct ref_params *out)
{
    const char *ps[MAX_SEGMENTS], *ss[MAX_SEGMENTS];
    size_t pl[MAX_SEGMENTS], sl[MAX_SEGMENTS];
    if (path[0] != '/')
        return false;
    int np = split(pattern, ps, pl, MAX_SEGMENTS);
    int ns = split(path, ss, sl, MAX_SEGMENTS);
    if (np < 0)
        abort();
    out->n = 0;
    for (int i = 0; i < np; i++) {
        /* ns < 0: more path segments than any pattern has; only a '*' can match. */
        if (ns >= 0 && i >= ns)
            return false;
        if (pl[i] == 1 && ps[i][0] == '*')
            return true;
        if (pl[i] >= 2 && ps[i][0] == '{' && ps[i][pl[i] - 1] == '}') {
            if (sl[i] == 0 || out->n == HTTP_MAX_PARAMS || sl[i] >= sizeof(out->v[0]))
                return false;
            memcpy(out->v[out->n], ss[i], sl[i]);
            out->v[out->n][sl[i]] = '\0';
            out->n++;
        } else if (pl[i] != sl[i] || memcmp(ps[i], ss[i], pl[i]) != 0) {
            return false;
        }
    }
    return ns == np;
}

static void check(struct http_server *s, enum http_method m, const char *path)
{
    /* As the server hands it over: zeroed (calloc), but no parameter is terminated yet. */
    static struct http_req req;
    memset(&req, 0, sizeof(req));
    memset(req.param, 0x55, sizeof(req.param));
    const struct route *r = NULL;
    enum route_match got = http_route_find(s, m, path, &req, &r);

    /*
     * The path is "seen" (405, not 404) when a route of another method matches
     * it. Whether a catch-all ending in '*' counts is a policy that may
     * change (the static files' catch-all would make every unknown path a
     * 405), so when only such routes match, either answer is accepted.
     */
    enum route_match want = ROUTE_NO_PATH;
    bool seen_by_catch_all = false;
    int want_route = -1;
    struct ref_params want_params = {0};
    for (int i = 0; i < s->nroutes; i++) {
        struct ref_params p;
        const char *pat = s->routes[i].pattern;
        if (!ref_match(pat, path, &p))
            continue;
        if (s->routes[i].method != m) {
            if (pat[strlen(pat) - 1] == '*')
                seen_by_catch_all = true;
            else
                want = ROUTE_NO_METHOD;
            continue;
        }
        want = ROUTE_FOUND;
        want_route = i;
        want_params = p;
        break;
    }
    if (got != want && !(want == ROUTE_NO_PATH && seen_by_catch_all && got == ROUTE_NO_METHOD))
        fail("outcome differs from the reference matcher", path);
    if (got != ROUTE_FOUND)
        return;
    if (r != &s->routes[want_route])
        fail("matched another route than the reference", path);
    if (req.nparams < 0 || req.nparams > HTTP_MAX_PARAMS)
        fail("nparams out of range", path);
    if (req.nparams != want_params.n)
        fail("parameter count differs from the reference", path);
    for (int i = 0; i < req.nparams; i++) {
        if (!memchr(req.param[i], '\0', sizeof(req.param[i])) || !req.param[i][0])
            fail("parameter is empty or not NUL-terminated", path);
        if (strchr(req.param[i], '/'))
            fail("parameter spans a '/'", path);
        if (strcmp(req.param[i], want_params.v[i]) != 0)
            fail("parameter value differs from the reference", path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_server *with_static, *api_only;
    if (!with_static) {
        with_static = server_new(true);
        api_only = server_new(false);
    }
    if (size < 1 || size > MAX_PATH_LEN)
        return 0;
    enum http_method m = (enum http_method)(data[0] % (HTTP_METHOD_OTHER + 1));
    char path[MAX_PATH_LEN];
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    check(with_static, m, path);
    check(api_only, m, path);
    return 0;
}
