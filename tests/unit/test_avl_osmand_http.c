/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_avl_osmand_http.c - unit tests of the OsmAnd port's HTTP/1.1 framing
 * parser (osmand_http_parse() in src/avl/osmand_http.c): requests as the
 * Traccar Client apps send them, whole and in pieces of every size,
 * pipelined, HTTP/1.0 and its keep-alive, and the refusals: bad request
 * lines, malformed or duplicated headers, Transfer-Encoding, heads over
 * 8 KiB, bodies over 64 KiB, Content-Length lies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/osmand_http.h"
#include "core/core.h"

/* ------------------------------------------------------------- helpers */

/* Parses a copy of `text` (n bytes; strlen if n is 0); the copy is kept in *copy (free it). */
static int parse_copy(const char *text, size_t n, struct osmand_http_req *r, size_t *used,
                      char **copy)
{
    if (!n)
        n = strlen(text);
    char *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, text, n);
    b[n] = '\0';
    *copy = b;
    size_t scan = 0;
    return osmand_http_parse(b, n, r, used, &scan, NULL);
}

/* The status a request gets, whole. */
static int status_of(const char *text)
{
    struct osmand_http_req r;
    size_t used;
    char *b;
    int rc = parse_copy(text, 0, &r, &used, &b);
    free(b);
    return rc;
}

#define ANDROID                                                                                    \
    "POST /?id=356938035643809&timestamp=1700000000&lat=33.5731&lon=-7.5898&speed=0.0"             \
    "&bearing=0.0&altitude=50.0&accuracy=8.0&batt=87.0 HTTP/1.1\r\n"                               \
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"                     \
    "Host: 10.0.0.1:5055\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip\r\n"                   \
    "User-Agent: okhttp/4.12.0\r\n\r\n"

/* ------------------------------------------------------------- tests */

static void test_android_request(void **state)
{
    (void)state;
    struct osmand_http_req r;
    size_t used;
    char *b;
    assert_int_equal(parse_copy(ANDROID, 0, &r, &used, &b), 0);
    assert_int_equal(used, strlen(ANDROID));
    assert_int_equal(r.method, OSMAND_HTTP_POST);
    assert_string_equal(r.method_name, "POST");
    assert_string_equal(r.path, "/");
    assert_string_equal(r.query, "id=356938035643809&timestamp=1700000000&lat=33.5731&lon=-7.5898"
                                 "&speed=0.0&bearing=0.0&altitude=50.0&accuracy=8.0&batt=87.0");
    assert_string_equal(r.content_type, "application/x-www-form-urlencoded");
    assert_int_equal(r.body_len, 0);
    assert_int_equal(r.minor, 1);
    assert_true(r.keep_alive);
    free(b);
}

static void test_get_without_query(void **state)
{
    (void)state;
    struct osmand_http_req r;
    size_t used;
    char *b;
    assert_int_equal(parse_copy("GET /gps HTTP/1.1\r\nHost: x\r\n\r\n", 0, &r, &used, &b), 0);
    assert_int_equal(r.method, OSMAND_HTTP_GET);
    assert_string_equal(r.path, "/gps");
    assert_null(r.query);
    assert_string_equal(r.content_type, "");
    free(b);
    /* A '?' at the end: an empty query. */
    assert_int_equal(parse_copy("GET /? HTTP/1.1\r\nHost: x\r\n\r\n", 0, &r, &used, &b), 0);
    assert_string_equal(r.query, "");
    free(b);
}

static void test_post_body(void **state)
{
    (void)state;
    const char *req = "POST / HTTP/1.1\r\nHost: x\r\ncontent-type:  application/json ; "
                      "charset=utf-8 \r\nCONTENT-LENGTH: 11\r\n\r\n{\"a\":12345}";
    struct osmand_http_req r;
    size_t used;
    char *b;
    assert_int_equal(parse_copy(req, 0, &r, &used, &b), 0);
    assert_int_equal(used, strlen(req));
    assert_int_equal(r.body_len, 11);
    assert_memory_equal(r.body, "{\"a\":12345}", 11);
    assert_string_equal(r.content_type, "application/json ; charset=utf-8");
    free(b);
}

/* Every prefix of a request is "more", fed as a connection grows its buffer. */
static void test_in_pieces(void **state)
{
    (void)state;
    const char *reqs[] = {
        ANDROID,
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nid=ab",
        "\r\n\r\nGET /?id=a HTTP/1.0\r\n\r\n",
    };
    for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
        size_t n = strlen(reqs[k]);
        char *b = malloc(n + 1);
        assert_non_null(b);
        /* One byte at a time, the end of the head looked for from where it stopped. */
        size_t scan = 0, used;
        struct osmand_http_req r;
        for (size_t i = 1; i < n; i++) {
            memcpy(b, reqs[k], i);
            assert_int_equal(osmand_http_parse(b, i, &r, &used, &scan, NULL), OSMAND_HTTP_MORE);
            assert_int_equal(used, 0);
        }
        memcpy(b, reqs[k], n);
        assert_int_equal(osmand_http_parse(b, n, &r, &used, &scan, NULL), 0);
        assert_int_equal(used, n);
        /* And each prefix alone, without the scan hint. */
        for (size_t i = 1; i < n; i++) {
            memcpy(b, reqs[k], n);
            assert_int_equal(osmand_http_parse(b, i, &r, &used, NULL, NULL), OSMAND_HTTP_MORE);
        }
        free(b);
    }
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *two = "GET /?id=a&lat=1&lon=2 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nid=b"
                      "GET /?id=c HTTP/1.1\r\nHo";
    size_t n = strlen(two);
    char *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, two, n + 1);
    struct osmand_http_req r;
    size_t used, off = 0;
    assert_int_equal(osmand_http_parse(b, n, &r, &used, NULL, NULL), 0);
    assert_string_equal(r.query, "id=a&lat=1&lon=2");
    off += used;
    assert_int_equal(osmand_http_parse(b + off, n - off, &r, &used, NULL, NULL), 0);
    assert_int_equal(r.body_len, 3);
    assert_memory_equal(r.body, "id=", 3);
    off += used;
    /* The 'b' left over from a Content-Length that was short by one starts the next request:
     * its method is "bGET", a token, so it is framed as such (and answered 405). */
    assert_int_equal(osmand_http_parse(b + off, n - off, &r, &used, NULL, NULL), OSMAND_HTTP_MORE);
    free(b);
}

static void test_content_length_lies(void **state)
{
    (void)state;
    /* Shorter than the body: what follows is read as the next request, and refused. */
    const char *shorter = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nid=a\r\n\r\n";
    struct osmand_http_req r;
    size_t used;
    char *b;
    assert_int_equal(parse_copy(shorter, 0, &r, &used, &b), 0);
    size_t n = strlen(shorter);
    const char *why = NULL;
    assert_int_equal(osmand_http_parse(b + used, n - used, &r, &used, NULL, &why), 400);
    assert_non_null(why);
    assert_true(why[0] != '\0');
    free(b);
    /* Longer than what came: more is awaited (the connection's deadline ends it). */
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nid=a"),
                     OSMAND_HTTP_MORE);
    /* Not a number, negative, a list, empty, twice. */
    const char *bad[] = {"12a", "-1", "+1", "1, 1", "", "0x10", "1 2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[128];
        snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n",
                 bad[i]);
        assert_int_equal(status_of(req), 400);
    }
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
        400);
    /* Leading zeros are a number. */
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 003\r\n\r\nabc"), 0);
}

static void test_bad_request_lines(void **state)
{
    (void)state;
    const struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
        {"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400}, /* absolute-form: not from a phone */
        {"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTPS/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400},
        {"GET / http/1.1\r\nHost: x\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: x\n\n", 400},                  /* bare LF: refused at once */
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400}, /* a TLS hello, refused at once */
        {"GET /?id=a HTTP/1.1\r\n\r\n", 400},                  /* no Host in 1.1 */
        {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = status_of(cases[i].req);
        if (got != cases[i].status)
            fail_msg("case %zu: status %d, expected %d", i, got, cases[i].status);
    }
}

static void test_other_methods_are_framed(void **state)
{
    (void)state;
    struct osmand_http_req r;
    size_t used;
    char *b;
    const char *put = "PUT /?id=a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabGET";
    assert_int_equal(parse_copy(put, 0, &r, &used, &b), 0);
    assert_int_equal(r.method, OSMAND_HTTP_OTHER);
    assert_string_equal(r.method_name, "PUT");
    assert_int_equal(used, strlen(put) - 3);
    assert_true(r.keep_alive);
    free(b);
    assert_int_equal(status_of("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 0); /* a token, not GET */
}

static void test_http10_and_connection(void **state)
{
    (void)state;
    const struct {
        const char *req;
        bool keep_alive;
        int minor;
    } cases[] = {
        {"GET / HTTP/1.0\r\n\r\n", false, 0},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, 0},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nConnection: close\r\n\r\n", false, 0},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true, 1},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false, 1},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n", false, 1},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", true, 1},
        {"GET / HTTP/1.7\r\nHost: x\r\n\r\n", true, 1}, /* a later 1.x is read as 1.1 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct osmand_http_req r;
        size_t used;
        char *b;
        assert_int_equal(parse_copy(cases[i].req, 0, &r, &used, &b), 0);
        if (r.keep_alive != cases[i].keep_alive || r.minor != cases[i].minor)
            fail_msg("case %zu: keep_alive %d minor %d", i, r.keep_alive, r.minor);
        free(b);
    }
}

static void test_expect_continue(void **state)
{
    (void)state;
    const char *head = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                       "Content-Length: 4\r\n\r\n";
    struct osmand_http_req r;
    size_t used;
    char *b;
    assert_int_equal(parse_copy(head, 0, &r, &used, &b), OSMAND_HTTP_MORE);
    assert_true(r.head_done);
    assert_true(r.expect_continue);
    free(b);
    char whole[256];
    snprintf(whole, sizeof(whole), "%sid=a", head);
    assert_int_equal(parse_copy(whole, 0, &r, &used, &b), 0);
    assert_int_equal(r.body_len, 4);
    free(b);
}

/* A request whose head is exactly `head_len` bytes (a padding header), and a body of blen. */
static char *sized(size_t head_len, size_t blen, size_t *n)
{
    char start[64];
    int k = snprintf(start, sizeof(start), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n",
                     blen);
    const char *pad_name = "X-Pad: ";
    size_t fixed = (size_t)k + strlen(pad_name) + 2 + 2;
    assert_true(head_len > fixed);
    *n = head_len + blen;
    char *b = malloc(*n + 1);
    assert_non_null(b);
    memcpy(b, start, (size_t)k);
    size_t p = (size_t)k;
    memcpy(b + p, pad_name, strlen(pad_name));
    p += strlen(pad_name);
    memset(b + p, 'a', head_len - fixed);
    p += head_len - fixed;
    memcpy(b + p, "\r\n\r\n", 4);
    p += 4;
    memset(b + p, 'b', blen);
    b[*n] = '\0';
    return b;
}

static void test_sizes(void **state)
{
    (void)state;
    struct osmand_http_req r;
    size_t used, n;
    char *b = sized(OSMAND_HTTP_MAX_HEAD, OSMAND_HTTP_MAX_BODY, &n);
    assert_int_equal(osmand_http_parse(b, n, &r, &used, NULL, NULL), 0);
    assert_int_equal(used, n);
    assert_int_equal(r.body_len, OSMAND_HTTP_MAX_BODY);
    free(b);
    b = sized(OSMAND_HTTP_MAX_HEAD + 1, 0, &n);
    assert_int_equal(osmand_http_parse(b, n, &r, &used, NULL, NULL), 431);
    free(b);
    /* A head that never ends is refused once it passes 8 KiB, not later. */
    b = sized(OSMAND_HTTP_MAX_HEAD * 2, 0, &n);
    assert_int_equal(osmand_http_parse(b, OSMAND_HTTP_MAX_HEAD, &r, &used, NULL, NULL),
                     OSMAND_HTTP_MORE);
    assert_int_equal(osmand_http_parse(b, OSMAND_HTTP_MAX_HEAD + 1, &r, &used, NULL, NULL), 431);
    free(b);
    /* A body over 64 KiB is refused from its Content-Length, before it comes. */
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n"), 413);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        413);
    /* A request line over 8 KiB: 414, with or without its end. */
    size_t ln = OSMAND_HTTP_MAX_HEAD + 10;
    char *line = malloc(ln + 64);
    assert_non_null(line);
    memcpy(line, "GET /?", 6);
    memset(line + 6, 'a', ln - 6);
    line[ln] = '\0';
    assert_int_equal(status_of(line), 414);
    const char *rest = " HTTP/1.1\r\nHost: x\r\n\r\n";
    memcpy(line + ln, rest, strlen(rest) + 1);
    assert_int_equal(status_of(line), 414);
    free(line);
    /* Empty lines before a request are skipped, but not for ever. */
    assert_int_equal(status_of("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    char *blank = malloc(OSMAND_HTTP_MAX_HEAD + 8);
    assert_non_null(blank);
    for (size_t i = 0; i + 2 <= OSMAND_HTTP_MAX_HEAD + 4; i += 2)
        memcpy(blank + i, "\r\n", 2);
    blank[OSMAND_HTTP_MAX_HEAD + 4] = '\0';
    assert_int_equal(status_of(blank), 400);
    free(blank);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_android_request),
        cmocka_unit_test(test_get_without_query),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_in_pieces),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_content_length_lies),
        cmocka_unit_test(test_bad_request_lines),
        cmocka_unit_test(test_other_methods_are_framed),
        cmocka_unit_test(test_http10_and_connection),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests_name("avl osmand http framing", tests, NULL, NULL);
}
