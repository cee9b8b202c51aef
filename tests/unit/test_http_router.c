/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_http_router.c - unit tests of the route table in src/http/router.c:
 * default deny for routes without roles, literal and {param} segments, the
 * final catch-all, method and path misses, and first-registered-wins. The
 * server struct is built bare (no libwebsockets context): only http_route()
 * and http_route_find() are called.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

#define STAFF (AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_DISPATCHER))

/* Handlers are never called; distinct functions tell the routes apart. */
static void h_a(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)req, (void)resp, (void)arg;
}
static void h_b(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)req, (void)resp, (void)arg;
}
static void h_c(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)req, (void)resp, (void)arg;
}

static int setup(void **state)
{
    struct http_server *s = calloc(1, sizeof(*s));
    *state = s;
    return s ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

struct found {
    enum route_match m;
    const struct route *r;
    struct http_req req;
};

static struct found *find(struct http_server *s, enum http_method m, const char *path)
{
    static struct found f;
    memset(&f, 0, sizeof(f));
    f.r = NULL;
    f.m = http_route_find(s, m, path, &f.req, &f.r);
    return &f;
}

static void test_route_needs_roles_or_public(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/secret", 0, 0, h_a, NULL), AM_EINVAL);
    assert_int_equal(http_route(s, HTTP_POST, "/api/v1/secret", 0, HTTP_JSON_BODY, h_a, NULL),
                     AM_EINVAL);
    assert_int_equal(s->nroutes, 0);
    /* Refused routes are not in the table. */
    assert_int_equal(find(s, HTTP_GET, "/api/v1/secret")->m, ROUTE_NO_PATH);

    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/health", 0, HTTP_PUBLIC, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/me", AM_ROLES_ALL, 0, h_b, NULL), 0);
    assert_int_equal(
        http_route(s, HTTP_GET, "/api/v1/users", AM_ROLE_BIT(AM_ROLE_ADMIN), 0, h_c, NULL), 0);
    assert_int_equal(s->nroutes, 3);
    struct found *f = find(s, HTTP_GET, "/api/v1/users");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_int_equal(f->r->roles, AM_ROLE_BIT(AM_ROLE_ADMIN));
    assert_int_equal(f->r->flags, 0);
    f = find(s, HTTP_GET, "/api/v1/health");
    assert_int_equal(f->r->flags, HTTP_PUBLIC);

    /* Other malformed routes. */
    assert_int_equal(http_route(s, HTTP_GET, "api/v1/x", STAFF, 0, h_a, NULL), AM_EINVAL);
    assert_int_equal(http_route(s, HTTP_GET, "", STAFF, 0, h_a, NULL), AM_EINVAL);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/x", STAFF, 0, NULL, NULL), AM_EINVAL);
    char longpat[200];
    memset(longpat, 'x', sizeof(longpat) - 1);
    longpat[0] = '/';
    longpat[sizeof(longpat) - 1] = '\0';
    assert_int_equal(http_route(s, HTTP_GET, longpat, STAFF, 0, h_a, NULL), AM_EINVAL);
    assert_int_equal(s->nroutes, 3);
}

static void test_route_table_is_bounded(void **state)
{
    struct http_server *s = *state;
    for (int i = 0; i < HTTP_MAX_ROUTES; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/r/%d", i);
        assert_int_equal(http_route(s, HTTP_GET, p, STAFF, 0, h_a, NULL), 0);
    }
    assert_int_equal(http_route(s, HTTP_GET, "/one/more", STAFF, 0, h_a, NULL), AM_EINVAL);
    assert_int_equal(s->nroutes, HTTP_MAX_ROUTES);
    assert_int_equal(find(s, HTTP_GET, "/r/127")->m, ROUTE_FOUND);
    assert_int_equal(find(s, HTTP_GET, "/one/more")->m, ROUTE_NO_PATH);
}

static void test_literal_match(void **state)
{
    struct http_server *s = *state;
    int arg = 7;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users", STAFF, 0, h_a, &arg), 0);
    assert_int_equal(http_route(s, HTTP_POST, "/api/v1/users", STAFF, HTTP_JSON_BODY, h_b, NULL),
                     0);
    assert_int_equal(http_route(s, HTTP_GET, "/", STAFF, HTTP_PUBLIC, h_c, NULL), 0);

    struct found *f = find(s, HTTP_GET, "/api/v1/users");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_ptr_equal(f->r->fn, h_a);
    assert_ptr_equal(f->r->arg, &arg);
    assert_int_equal(f->req.nparams, 0);
    f = find(s, HTTP_POST, "/api/v1/users");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_ptr_equal(f->r->fn, h_b);
    assert_int_equal(f->r->flags, HTTP_JSON_BODY);
    f = find(s, HTTP_GET, "/");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_ptr_equal(f->r->fn, h_c);

    /* Near misses are not matches. */
    static const char *const misses[] = {
        "/api/v1/user",     "/api/v1/userss", "/api/v1",        "/api/v1/users/x", "/API/v1/users",
        "/api/v2/users",    "//api/v1/users", "/api//v1/users", "api/v1/users",    "",
        "/api/v1/users?x=1"};
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        f = find(s, HTTP_GET, misses[i]);
        if (f->m != ROUTE_NO_PATH)
            fail_msg("'%s' matched", misses[i]);
        assert_null(f->r);
    }
}

static void test_param_capture(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users/{name}", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(
        http_route(s, HTTP_PUT, "/api/v1/incidents/{id}/units/{unit}", STAFF, 0, h_b, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/a/{p1}/{p2}/{p3}/{p4}", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/b/{p1}/{p2}/{p3}/{p4}/{p5}", STAFF, 0, h_a, NULL),
                     0);

    struct found *f = find(s, HTTP_GET, "/api/v1/users/amina");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_int_equal(f->req.nparams, 1);
    assert_string_equal(f->req.param[0], "amina");

    f = find(s, HTTP_PUT, "/api/v1/incidents/42/units/K9-03");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_ptr_equal(f->r->fn, h_b);
    assert_int_equal(f->req.nparams, 2);
    assert_string_equal(f->req.param[0], "42");
    assert_string_equal(f->req.param[1], "K9-03");

    /* A parameter is one whole, non-empty segment. */
    assert_int_equal(find(s, HTTP_GET, "/api/v1/users/")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/users")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/users/a/b")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_PUT, "/api/v1/incidents//units/x")->m, ROUTE_NO_PATH);

    /* Non-ASCII segments are captured byte for byte. */
    f = find(s, HTTP_GET, "/api/v1/users/أمينة");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_string_equal(f->req.param[0], "أمينة");

    /* Four parameters fit; a fifth never matches. */
    f = find(s, HTTP_GET, "/a/1/2/3/4");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_int_equal(f->req.nparams, 4);
    assert_string_equal(f->req.param[3], "4");
    assert_int_equal(find(s, HTTP_GET, "/b/1/2/3/4/5")->m, ROUTE_NO_PATH);

    /* A value too long for req.param is no match rather than cut short. */
    char path[300];
    int n = snprintf(path, sizeof(path), "/api/v1/users/");
    memset(path + n, 'v', 127);
    path[n + 127] = '\0';
    f = find(s, HTTP_GET, path);
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_int_equal(strlen(f->req.param[0]), 127);
    path[n + 127] = 'v';
    path[n + 128] = '\0';
    assert_int_equal(find(s, HTTP_GET, path)->m, ROUTE_NO_PATH);
}

static void test_trailing_slash_is_not_a_match(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/logbook", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/logbook/{id}", STAFF, 0, h_b, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/units/", STAFF, 0, h_c, NULL), 0);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/logbook/")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/logbook/7/")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/logbook/7")->m, ROUTE_FOUND);
    /* And the other way round. */
    assert_int_equal(find(s, HTTP_GET, "/api/v1/units")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/units/")->m, ROUTE_FOUND);
}

static void test_method_and_path_misses(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_DELETE, "/api/v1/users/{name}", STAFF, 0, h_b, NULL), 0);

    struct found *f = find(s, HTTP_POST, "/api/v1/users");
    assert_int_equal(f->m, ROUTE_NO_METHOD);
    assert_null(f->r);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/users/amina")->m, ROUTE_NO_METHOD);
    assert_int_equal(find(s, HTTP_OPTIONS, "/api/v1/users")->m, ROUTE_NO_METHOD);
    assert_int_equal(find(s, HTTP_METHOD_OTHER, "/api/v1/users")->m, ROUTE_NO_METHOD);
    assert_int_equal(find(s, HTTP_DELETE, "/api/v1/users/amina")->m, ROUTE_FOUND);
    assert_int_equal(find(s, HTTP_GET, "/api/v1/nothing")->m, ROUTE_NO_PATH);
    assert_int_equal(find(s, HTTP_POST, "/api/v1/nothing")->m, ROUTE_NO_PATH);

    /* An empty table knows no path. */
    struct http_server empty;
    memset(&empty, 0, sizeof(empty));
    assert_int_equal(find(&empty, HTTP_GET, "/")->m, ROUTE_NO_PATH);
}

static void test_catch_all(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/health", 0, HTTP_PUBLIC, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/files/*", STAFF, 0, h_b, NULL), 0);
    assert_int_equal(http_route_static(s), 0);

    static const char *const under_files[] = {"/files/a", "/files/a/b/c.txt", "/files/",
                                              "/files/%2e%2e/x"};
    for (size_t i = 0; i < sizeof(under_files) / sizeof(under_files[0]); i++) {
        struct found *f = find(s, HTTP_GET, under_files[i]);
        assert_int_equal(f->m, ROUTE_FOUND);
        if (f->r->fn != h_b)
            fail_msg("'%s' did not reach /files/*", under_files[i]);
    }
    /* The root catch-all takes everything else, but only for its method. */
    static const char *const elsewhere[] = {"/",      "/index.html", "/console/app.js",
                                            "/files", "/filesx/a",   "/api/v1/healthz"};
    for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++) {
        struct found *f = find(s, HTTP_GET, elsewhere[i]);
        assert_int_equal(f->m, ROUTE_FOUND);
        if (f->r->fn != http_static_serve || !(f->r->flags & HTTP_PUBLIC))
            fail_msg("'%s' did not reach the static route", elsewhere[i]);
    }
    assert_ptr_equal(find(s, HTTP_GET, "/api/v1/health")->r->fn, h_a);
    /* Other methods on paths only the catch-all matches are unknown paths (404), not 405. */
    assert_int_equal(find(s, HTTP_POST, "/index.html")->m, ROUTE_NO_PATH);

    /* Parameters before a catch-all are captured and counted. */
    assert_int_equal(http_route(s, HTTP_PUT, "/blobs/{bucket}/{id}/*", STAFF, 0, h_c, NULL), 0);
    struct found *f = find(s, HTTP_PUT, "/blobs/photos/42/a/b.jpg");
    assert_int_equal(f->m, ROUTE_FOUND);
    assert_ptr_equal(f->r->fn, h_c);
    assert_int_equal(f->req.nparams, 2);
    assert_string_equal(f->req.param[0], "photos");
    assert_string_equal(f->req.param[1], "42");
    /* A failed candidate leaves no parameters behind for the route that matches. */
    assert_int_equal(http_route(s, HTTP_PUT, "/x/{a}/y", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_PUT, "/x/*", STAFF, 0, h_b, NULL), 0);
    f = find(s, HTTP_PUT, "/x/1/z");
    assert_ptr_equal(f->r->fn, h_b);
    assert_int_equal(f->req.nparams, 0);
}

static void test_first_registered_wins(void **state)
{
    struct http_server *s = *state;
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users/me", STAFF, 0, h_a, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users/{name}", STAFF, 0, h_b, NULL), 0);
    assert_int_equal(http_route(s, HTTP_GET, "/api/v1/users/me", STAFF, 0, h_c, NULL), 0);
    assert_ptr_equal(find(s, HTTP_GET, "/api/v1/users/me")->r->fn, h_a);
    struct found *f = find(s, HTTP_GET, "/api/v1/users/omar");
    assert_ptr_equal(f->r->fn, h_b);
    assert_string_equal(f->req.param[0], "omar");

    /* The other order: the parameter route shadows the literal one. */
    struct http_server *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(http_route(t, HTTP_GET, "/api/v1/users/{name}", STAFF, 0, h_b, NULL), 0);
    assert_int_equal(http_route(t, HTTP_GET, "/api/v1/users/me", STAFF, 0, h_a, NULL), 0);
    f = find(t, HTTP_GET, "/api/v1/users/me");
    assert_ptr_equal(f->r->fn, h_b);
    assert_string_equal(f->req.param[0], "me");

    /* A catch-all added first swallows what follows. */
    assert_int_equal(http_route_static(t), 0);
    struct http_server *u = calloc(1, sizeof(*u));
    assert_non_null(u);
    assert_int_equal(http_route_static(u), 0);
    assert_int_equal(http_route(u, HTTP_GET, "/api/v1/health", 0, HTTP_PUBLIC, h_a, NULL), 0);
    assert_ptr_equal(find(u, HTTP_GET, "/api/v1/health")->r->fn, http_static_serve);
    free(t);
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_route_needs_roles_or_public, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_table_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_slash_is_not_a_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_and_path_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_registered_wins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
