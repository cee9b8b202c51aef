/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * router.c - the route table: patterns of literal segments, `{name}`
 * segments and a final `*`, matched in the order routes were added.
 */
#include <string.h>

#include "http/http_int.h"

const char *http_method_name(enum http_method m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "?"};
    return (unsigned)m <= HTTP_METHOD_OTHER ? names[m] : "?";
}

/* A route whose pattern ends in '*' (the static files). */
static bool is_catch_all(const struct route *r)
{
    size_t n = strlen(r->pattern);
    return n >= 1 && r->pattern[n - 1] == '*';
}

int http_route(struct http_server *s, enum http_method m, const char *pattern, unsigned roles,
               unsigned flags, http_handler fn, void *arg)
{
    if (s->nroutes == HTTP_MAX_ROUTES || strlen(pattern) >= sizeof(s->routes[0].pattern) ||
        pattern[0] != '/' || !fn)
        return AM_EINVAL;
    /* A '*' segment is only allowed last: elsewhere the rest of the pattern would be ignored. */
    const char *star = strstr(pattern, "/*");
    if (star && star[2] != '\0')
        return AM_EINVAL;
    /* Default deny: a route that names no role must say it is public. */
    if (!roles && !(flags & HTTP_PUBLIC))
        return AM_EINVAL;
    struct route *r = &s->routes[s->nroutes++];
    r->method = m;
    am_strlcpy(r->pattern, pattern, sizeof(r->pattern));
    r->roles = roles;
    r->flags = flags;
    r->fn = fn;
    r->arg = arg;
    return 0;
}

/* Matches one pattern; fills params when `req` is not NULL. */
static bool match(const char *pat, const char *path, struct http_req *req)
{
    int np = 0;
    if (req)
        req->nparams = 0;
    while (*pat && *path) {
        if (pat[0] == '*' && pat[1] == '\0')
            return true;
        if (*pat != '/' || *path != '/')
            return false;
        pat++;
        path++;
        const char *pend = strchr(pat, '/');
        const char *send = strchr(path, '/');
        size_t plen = pend ? (size_t)(pend - pat) : strlen(pat);
        size_t slen = send ? (size_t)(send - path) : strlen(path);
        if (plen == 1 && pat[0] == '*')
            return true;
        if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
            if (slen == 0 || np == HTTP_MAX_PARAMS || slen >= sizeof(req->param[0]))
                return false;
            if (req) {
                memcpy(req->param[np], path, slen);
                req->param[np][slen] = '\0';
                req->nparams = np + 1; /* also right when a later '*' ends the match */
            }
            np++;
        } else if (plen != slen || strncmp(pat, path, plen)) {
            return false;
        }
        pat += plen;
        path += slen;
    }
    return !*pat && !*path;
}

enum route_match http_route_find(struct http_server *s, enum http_method m, const char *path,
                                 struct http_req *req, const struct route **out)
{
    bool path_seen = false;
    for (int i = 0; i < s->nroutes; i++) {
        const struct route *r = &s->routes[i];
        if (!match(r->pattern, path, NULL))
            continue;
        if (r->method != m) {
            /* The static files' catch-all would turn every unknown path into a 405. */
            if (!is_catch_all(r))
                path_seen = true;
            continue;
        }
        match(r->pattern, path, req);
        *out = r;
        return ROUTE_FOUND;
    }
    return path_seen ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

int http_route_static(struct http_server *s)
{
    return http_route(s, HTTP_GET, "/*", 0, HTTP_PUBLIC, http_static_serve, s);
}

void http_route_each(struct http_server *s,
                     void (*fn)(void *arg, const char *method, const char *pattern, unsigned roles,
                                unsigned flags),
                     void *arg)
{
    for (int i = 0; i < s->nroutes; i++)
        fn(arg, http_method_name(s->routes[i].method), s->routes[i].pattern, s->routes[i].roles,
           s->routes[i].flags);
}

void http_route_allowed(struct http_server *s, const char *path, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < s->nroutes; i++) {
        const struct route *r = &s->routes[i];
        if (is_catch_all(r) || !match(r->pattern, path, NULL))
            continue;
        const char *m = http_method_name(r->method);
        if (strstr(out, m))
            continue;
        int w = snprintf(out + n, outsz - n, "%s%s", n ? ", " : "", m);
        if (w < 0 || (size_t)w >= outsz - n)
            break;
        n += (size_t)w;
    }
}
